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
	confirmTmpl    = survey.ConfirmQuestionTemplate
	errorTmpl      = survey.ErrorTemplate
)

func localizeSurvey(p *locales.Printer) {
	survey.SelectQuestionTemplate = strings.Replace(selectTemplate,
		"[Use arrows to move, type to filter", "["+p.T("PromptSelectHelp", nil), 1)
	survey.ConfirmQuestionTemplate = strings.Replace(confirmTmpl,
		"{{.Answer}}", `{{if eq .Answer "Yes"}}`+p.T("PromptYes", nil)+`{{else}}`+p.T("PromptNo", nil)+`{{end}}`, 1)
	// survey accepts y, yes, n and no in any case; the hint says so in the
	// user's language, and so does the message for any other reply.
	survey.ConfirmQuestionTemplate = strings.NewReplacer(
		"(Y/n) ", p.T("PromptYesNoDefaultYes", nil)+" ",
		"(y/N) ", p.T("PromptYesNoDefaultNo", nil)+" ").Replace(survey.ConfirmQuestionTemplate)
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

// Confirm asks a yes or no question on the terminal; the default is no, and so
// is Ctrl-C.
func Confirm(p *locales.Printer, in, out *os.File, message string) (bool, error) {
	surveyMu.Lock()
	defer surveyMu.Unlock()
	localizeSurvey(p)
	var yes bool
	err := survey.AskOne(&survey.Confirm{Message: message}, &yes, survey.WithStdio(in, out, out))
	if errors.Is(err, terminal.InterruptErr) {
		return false, nil
	}
	return yes, err
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
