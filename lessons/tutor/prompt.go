package tutor

import (
	"errors"
	"os"
	"strings"
	"sync"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"

	"github.com/rt-lab/rt-lab/locales"
)

// survey's templates hold a few English words. They are package variables, so
// they are rewritten once per language before each prompt; rt-lab uses one
// language per process.
var (
	surveyMu       sync.Mutex
	selectTemplate = survey.SelectQuestionTemplate
	errorTmpl      = survey.ErrorTemplate
)

func localizeSurvey(p *locales.Printer) {
	survey.SelectQuestionTemplate = strings.Replace(selectTemplate,
		"[Use arrows to move, type to filter", "["+p.T("PromptSelectHelp", nil), 1)
	survey.ErrorTemplate = strings.Replace(errorTmpl,
		"Sorry, your reply was invalid: {{ .Error.Error }}", p.T("PromptYesNoInvalid", nil), 1)
}

// Select asks the student to pick one of options on the terminal and returns its
// index. Ctrl-C returns terminal.InterruptErr.
func Select(p *locales.Printer, in, out *os.File, message string, options []string) (int, error) {
	surveyMu.Lock()
	defer surveyMu.Unlock()
	localizeSurvey(p)
	var index int
	prompt := &survey.Select{Message: message, Options: options, PageSize: len(options)}
	err := survey.AskOne(prompt, &index, survey.WithStdio(in, out, out))
	return index, err
}

// Confirm asks a yes or no question on the terminal and accepts the replies of
// ParseYesNo. An empty reply and Ctrl-C mean no, and any other reply is asked
// again. survey's own Confirm is not used because it accepts only y, yes, n
// and no, which rejects the Indonesian ya and tidak.
func Confirm(p *locales.Printer, in, out *os.File, message string) (bool, error) {
	surveyMu.Lock()
	defer surveyMu.Unlock()
	localizeSurvey(p)
	var reply string
	prompt := &survey.Input{Message: message + " " + p.T("PromptYesNoDefaultNo", nil)}
	validate := func(answer any) error {
		if _, ok := ParseYesNo(answer.(string)); !ok {
			return errors.New("not a yes or no reply") // shown as PromptYesNoInvalid
		}
		return nil
	}
	err := survey.AskOne(prompt, &reply, survey.WithStdio(in, out, out), survey.WithValidator(validate))
	if errors.Is(err, terminal.InterruptErr) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	yes, _ := ParseYesNo(reply)
	return yes, nil
}

// ParseYesNo reads a reply to a yes or no question in either language,
// ignoring case and surrounding spaces. y, yes and ya are yes. n, no, tidak and
// an empty reply are no. ok is false for any other reply.
func ParseYesNo(reply string) (yes, ok bool) {
	switch strings.ToLower(strings.TrimSpace(reply)) {
	case "y", "yes", "ya":
		return true, true
	case "", "n", "no", "tidak":
		return false, true
	}
	return false, false
}

// Input asks for one line of text on the terminal. Ctrl-C returns
// terminal.InterruptErr.
func Input(p *locales.Printer, in, out *os.File, message string) (string, error) {
	surveyMu.Lock()
	defer surveyMu.Unlock()
	localizeSurvey(p)
	var answer string
	err := survey.AskOne(&survey.Input{Message: message}, &answer, survey.WithStdio(in, out, out))
	return answer, err
}
