package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rt-lab/rt-lab/internal/fsutil"
	"github.com/rt-lab/rt-lab/internal/report"
	"github.com/rt-lab/rt-lab/internal/usererr"
)

// reportOptions are the inputs of `rt-lab report`.
type reportOptions struct {
	Files  []string
	Format string // empty: taken from the --output extension, else markdown
	Output string // empty: stdout
}

func (a *App) newReportCmd() *cobra.Command {
	opts := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report FILE... [--format markdown|csv|html] [--output FILE]",
		Short: a.P.T("ReportCmdShort", nil),
		Long:  a.P.T("ReportCmdLong", nil),
		Example: "  rt-lab report laporan/*.json\n  rt-lab report laporan/*.json --output kelas.html\n" +
			"  rt-lab report budi.json siti.json --format csv > kelas.csv",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Files = args
			return a.runReport(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "", a.P.T("ReportFlagFormat", nil))
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", a.P.T("ReportFlagOutput", nil))
	return cmd
}

// runReport merges the reports in opts.Files into a class summary. A file that
// cannot be used is reported on stderr and left out, and the exit status is then
// 1. When no file can be used, nothing is written and the exit status is 2.
func (a *App) runReport(opts *reportOptions) error {
	if err := a.reportUsage(opts); err != nil {
		return err
	}

	class := report.LoadClass(opts.Files)
	for _, e := range class.Rejected {
		a.info(a.Stderr, "ReportLeftOut", "Message", e.Render(a.P))
	}
	for _, e := range class.Notes {
		a.info(a.Stderr, "ReportNote", "Message", e.Render(a.P))
	}
	if len(class.Students) == 0 {
		return usererr.New(usererr.Usage, "ErrReportNothingMerged", "Count", len(opts.Files))
	}

	var out bytes.Buffer
	if err := report.WriteSummary(&out, class, opts.Format, a.P, time.Now()); err != nil {
		return err
	}
	if opts.Output == "" {
		if _, err := a.Stdout.Write(out.Bytes()); err != nil {
			return err
		}
	} else {
		if err := fsutil.WriteFileAtomic(opts.Output, out.Bytes(), 0o644); err != nil {
			return usererr.Wrap(err, usererr.Failed, "ErrReportWrite", "Path", opts.Output)
		}
		a.info(a.Stderr, "ReportWritten", "Path", opts.Output, "Students", len(class.Students))
	}
	if len(class.Rejected) > 0 {
		return &exitError{code: usererr.ExitFailed}
	}
	return nil
}

// reportUsage checks the arguments and fills in the format. It rejects an output
// file that is one of the input files, because writing it would destroy a
// student's report.
func (a *App) reportUsage(opts *reportOptions) error {
	if len(opts.Files) == 0 {
		return usererr.New(usererr.Usage, "ErrReportNoFiles")
	}
	if opts.Format == "" {
		opts.Format = formatFromName(opts.Output)
	}
	if !slices.Contains(report.SummaryFormats, opts.Format) {
		return usererr.New(usererr.Usage, "ErrReportFormat", "Value", opts.Format,
			"Choices", strings.Join(report.SummaryFormats, ", "))
	}
	if opts.Output == "" {
		return nil
	}
	if info, err := os.Stat(opts.Output); err == nil && info.IsDir() {
		return usererr.New(usererr.Usage, "ErrReportOutputDir", "Path", opts.Output)
	}
	dir := filepath.Dir(opts.Output)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return usererr.New(usererr.Usage, "ErrReportOutputParent", "Path", opts.Output, "Dir", dir)
	}
	for _, file := range opts.Files {
		if sameFile(file, opts.Output) {
			return usererr.New(usererr.Usage, "ErrReportOutputIsInput", "Path", opts.Output)
		}
	}
	return nil
}

// formatFromName returns the summary format that a file name's extension
// implies, and markdown for any other name.
func formatFromName(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return "csv"
	case ".html", ".htm":
		return "html"
	}
	return "markdown"
}

// sameFile reports whether two paths name one existing file, or are the same
// path once cleaned.
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	infoA, errA := os.Stat(a)
	infoB, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(infoA, infoB)
}
