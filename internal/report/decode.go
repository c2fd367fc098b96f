package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// MaxFileSize is the largest report file Load reads. A report of five stages is
// a few kilobytes, so a larger file is something else.
const MaxFileSize = 4 << 20

// Load reads and decodes the report in file. Every error is a *usererr.Error of
// kind Usage that names the file and the fix.
func Load(file string) (*Report, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, usererr.Wrap(err, usererr.Usage, "ErrReportRead", "File", file)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, usererr.Wrap(err, usererr.Usage, "ErrReportRead", "File", file)
	}
	if len(data) > MaxFileSize {
		return nil, usererr.New(usererr.Usage, "ErrReportTooLarge", "File", file, "MiB", MaxFileSize>>20)
	}
	return Decode(file, data)
}

// Decode parses a JSON report; file names it in errors. It accepts any schema
// version up to SchemaVersion, ignores unknown keys, and rejects a report whose
// scores do not add up.
func Decode(file string, data []byte) (*Report, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, usererr.New(usererr.Usage, "ErrReportEmpty", "File", file)
	}
	var keys map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&keys)
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, usererr.New(usererr.Usage, "ErrReportTruncated", "File", file)
	case errors.As(err, &typeErr):
		// Valid JSON, but an array, a string or a number rather than an object.
		return nil, usererr.New(usererr.Usage, "ErrReportNotRTLab", "File", file, "Format", Format)
	case err != nil:
		return nil, usererr.New(usererr.Usage, "ErrReportNotJSON", "File", file, "Detail", err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, usererr.New(usererr.Usage, "ErrReportNotJSON", "File", file,
			"Detail", "more data after the JSON object")
	}

	schema, err := schemaOf(keys)
	if err != nil {
		return nil, usererr.New(usererr.Usage, "ErrReportNotRTLab", "File", file, "Format", Format)
	}
	if schema > SchemaVersion {
		return nil, usererr.New(usererr.Usage, "ErrReportNewer", "File", file, "Schema", schema, "Max", SchemaVersion)
	}

	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, usererr.New(usererr.Usage, "ErrReportInvalid", "File", file, "Detail", err.Error())
	}
	if r.Format == "" {
		r.Format = Format
	}
	if r.Stages == nil {
		return nil, usererr.New(usererr.Usage, "ErrReportInvalid", "File", file, "Detail", `no "stages" list`)
	}
	if _, err := r.ParsedTime(); err != nil {
		return nil, usererr.New(usererr.Usage, "ErrReportInvalid", "File", file,
			"Detail", fmt.Sprintf("time %q is not an RFC 3339 time", r.Time))
	}
	for i := range r.Stages {
		st := &r.Stages[i]
		if st.Status == "" {
			st.Status = StatusReady
		}
		if st.Steps == nil {
			st.Steps = []Step{}
		}
	}
	if msg := r.consistent(); msg != "" {
		return nil, usererr.New(usererr.Usage, "ErrReportInconsistent", "File", file, "Detail", msg)
	}
	return &r, nil
}

// schemaOf returns the schema version of an rt-lab report, or an error when keys
// are not one. A report has "format": "rt-lab-report" and a whole-number
// "schema". Reports written before the "format" key have schema 1, a
// "rt_lab_version" and a "stages" list, and are accepted too.
func schemaOf(keys map[string]json.RawMessage) (int, error) {
	var schema int
	if err := json.Unmarshal(keys["schema"], &schema); err != nil || schema < 1 {
		return 0, errors.New("no schema version")
	}
	raw, ok := keys["format"]
	if ok {
		var format string
		if err := json.Unmarshal(raw, &format); err != nil || format != Format {
			return 0, errors.New("another format")
		}
		return schema, nil
	}
	_, hasVersion := keys["rt_lab_version"]
	_, hasStages := keys["stages"]
	if schema != 1 || !hasVersion || !hasStages {
		return 0, errors.New("not an rt-lab report")
	}
	return schema, nil
}
