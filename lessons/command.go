package lessons

import (
	"fmt"

	shellquote "github.com/kballard/go-shellquote"
)

// SplitCommand splits one solution line into arguments with POSIX shell quoting
// rules, without expanding variables or globs, so the line runs without a shell.
// A line that needs a shell says so: sh -c '...'.
func SplitCommand(line string) ([]string, error) {
	args, err := shellquote.Split(line)
	if err != nil {
		return nil, fmt.Errorf("split command %q: %w", line, err)
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("split command %q: no command", line)
	}
	return args, nil
}

// AnswerCheck is the check that compares a question step's answer with the
// kernel; the checker adds the student's answer to its parameters.
const AnswerCheck = "answer"
