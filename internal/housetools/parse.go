package housetools

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/rt-lab/rt-lab/internal/units"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// option describes one command-line option of a tool.
type option struct {
	names []string // spellings, such as "--workers" and "-w"
	value bool     // takes a value, as the next argument or after "="
}

// parseArgs splits args into positional arguments and the values of the
// options in spec, keyed by each option's first name and in command-line order.
// An option without a value gets "" for each time it appears. Arguments after "--"
// and arguments that start with "-" and a digit, such as "-5", are positional, so
// a negative number reaches the value check and gets its error there.
func parseArgs(args []string, spec []option) (positional []string, values map[string][]string, err error) {
	values = map[string][]string{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !isOption(arg) {
			positional = append(positional, arg)
			continue
		}
		name, value, hasValue := strings.Cut(arg, "=")
		opt, ok := findOption(spec, name)
		if !ok {
			return nil, nil, usererr.New(usererr.Usage, "ErrHouseToolOption", "Option", name)
		}
		key := opt.names[0]
		switch {
		case !opt.value && hasValue:
			return nil, nil, usererr.New(usererr.Usage, "ErrHouseToolOptionNoValue", "Option", name)
		case !opt.value:
			values[key] = append(values[key], "")
		case hasValue:
			values[key] = append(values[key], value)
		case i+1 < len(args):
			i++
			values[key] = append(values[key], args[i])
		default:
			return nil, nil, usererr.New(usererr.Usage, "ErrHouseToolOptionValue", "Option", name)
		}
	}
	return positional, values, nil
}

// lastValue returns the last value given for option key, so a later repetition
// overrides an earlier one.
func lastValue(values map[string][]string, key string) (string, bool) {
	v := values[key]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

func isOption(arg string) bool {
	if len(arg) < 2 || arg[0] != '-' {
		return false
	}
	return arg[1] < '0' || arg[1] > '9'
}

func findOption(spec []option, name string) (option, bool) {
	for _, opt := range spec {
		for _, n := range opt.names {
			if n == name {
				return opt, true
			}
		}
	}
	return option{}, false
}

const mib = units.MiB

// parseSize parses SIZE of eat-memory with units.ParseSize: a whole number
// with an optional binary suffix, where a bare number means MiB as for rt-lab's
// --ram. It must be positive and at most maxBytes, the machine's memory.
func parseSize(s string, maxBytes int64) (int64, error) {
	n, err := units.ParseSize(s, units.MiB, maxBytes)
	switch {
	case errors.Is(err, units.ErrSizeZero):
		return 0, usererr.New(usererr.Usage, "ErrEatMemorySizeZero", "Value", s)
	case errors.Is(err, units.ErrSizeTooLarge):
		return 0, usererr.New(usererr.Usage, "ErrEatMemorySizeTooLarge", "Value", s, "HostMiB", maxBytes/units.MiB)
	case err != nil:
		return 0, usererr.New(usererr.Usage, "ErrEatMemorySize", "Value", s)
	}
	return n, nil
}

// maxDuration bounds --hold and the run time of burn-cpu.
const maxDuration = 24 * time.Hour

// parseDuration parses a whole number of seconds ("10") or a Go duration such as
// "1.5s", "500ms" or "2m". It must not be negative, must be positive unless
// allowZero, and must be at most maxDuration. what names the argument in errors.
func parseDuration(s, what string, allowZero bool) (time.Duration, error) {
	var d time.Duration
	if n, ok := units.ParseDecimal(s); ok {
		if n > int64(maxDuration/time.Second) {
			return 0, usererr.New(usererr.Usage, "ErrHouseToolDurationTooLong", "What", what, "Value", s, "Max", maxDuration.String())
		}
		d = time.Duration(n) * time.Second
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, usererr.New(usererr.Usage, "ErrHouseToolDuration", "What", what, "Value", s)
		}
	}
	switch {
	case d < 0:
		return 0, usererr.New(usererr.Usage, "ErrHouseToolDurationNegative", "What", what, "Value", s)
	case d == 0 && !allowZero:
		return 0, usererr.New(usererr.Usage, "ErrHouseToolDurationZero", "What", what, "Value", s)
	case d > maxDuration:
		return 0, usererr.New(usererr.Usage, "ErrHouseToolDurationTooLong", "What", what, "Value", s, "Max", maxDuration.String())
	}
	return d, nil
}

// maxWorkers bounds burn-cpu --workers. More threads than CPUs add no load.
const maxWorkers = 256

func parseWorkers(s string) (int, error) {
	n, ok := units.ParseDecimal(s)
	if !ok || n < 1 || n > maxWorkers {
		return 0, usererr.New(usererr.Usage, "ErrBurnCPUWorkers", "Value", s, "Max", maxWorkers)
	}
	return int(n), nil
}

// parseMode parses ipcmk -p: octal permission bits from 0 to 0777, as chmod
// reads them ("644" and "0644" are the same).
func parseMode(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o777 || strings.HasPrefix(s, "+") {
		return 0, usererr.New(usererr.Usage, "ErrIpcmkMode", "Value", s)
	}
	return uint32(n), nil
}

// parseQueueID parses a message queue id as ipcs prints it: a decimal number
// from 0 to 2147483647.
func parseQueueID(s string) (int, error) {
	n, ok := units.ParseDecimal(s)
	if !ok || n > 1<<31-1 {
		return 0, usererr.New(usererr.Usage, "ErrIpcrmID", "Value", s)
	}
	return int(n), nil
}
