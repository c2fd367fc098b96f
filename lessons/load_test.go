package lessons_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rt-lab/rt-lab/checker"
	"github.com/rt-lab/rt-lab/internal/usererr"
	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

func TestLessonFilesValid(t *testing.T) {
	stages, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range lessons.Validate(stages, checker.Params) {
		t.Errorf("lesson problem: %s", pr)
	}
}

func TestAllSortedByNumber(t *testing.T) {
	stages, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 5 {
		t.Fatalf("got %d stages, want 5", len(stages))
	}
	for i, st := range stages {
		if st.Number != i+1 {
			t.Errorf("stage %d has number %d", i, st.Number)
		}
	}
}

// readyStages are the stages whose lesson is complete; the others are outlines.
var readyStages = map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true}

// checkedOutlines are outlines whose steps already have their checks.
var checkedOutlines = map[int]bool{}

func TestStageStatuses(t *testing.T) {
	stages, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stages {
		want := lessons.StatusOutline
		if readyStages[st.Number] {
			want = lessons.StatusReady
		}
		if st.Status != want {
			t.Errorf("%s: status %q, want %q", st.ID, st.Status, want)
		}
		if !st.Ready() && !checkedOutlines[st.Number] {
			for _, step := range st.Steps {
				if len(step.Checks) > 0 {
					t.Errorf("%s/%s: outline step has checks", st.ID, step.ID)
				}
			}
		}
	}
}

func TestTahap1Steps(t *testing.T) {
	st, err := lessons.Find("tahap-1")
	if err != nil {
		t.Fatal(err)
	}
	wantSteps := []string{"bangun-rumah", "ayah-pid-1", "keluarga", "nama-rumah", "telepon-rumah"}
	var got []string
	for _, step := range st.Steps {
		got = append(got, step.ID)
		if step.Points != 10 {
			t.Errorf("step %s: %d points, want 10", step.ID, step.Points)
		}
		if n := len(step.Hints); n < 2 || n > 3 {
			t.Errorf("step %s: %d hints, want 2 or 3", step.ID, n)
		}
	}
	if strings.Join(got, ",") != strings.Join(wantSteps, ",") {
		t.Errorf("steps = %v, want %v", got, wantSteps)
	}
	if st.MaxPoints() != 50 {
		t.Errorf("MaxPoints = %d, want 50", st.MaxPoints())
	}
	if strings.Join(st.Containers, ",") != "rumah-jakarta" {
		t.Errorf("containers = %v, want [rumah-jakarta]", st.Containers)
	}
}

// A student reads lesson text on an 80-column terminal, indented by two spaces.
func TestLessonLinesFitTerminal(t *testing.T) {
	stages, err := lessons.All()
	if err != nil {
		t.Fatal(err)
	}
	const max = 78
	check := func(where string, text lessons.Text) {
		for _, lang := range locales.Langs {
			for _, line := range strings.Split(text.In(lang), "\n") {
				if n := utf8.RuneCountInString(line); n > max {
					t.Errorf("%s (%s): line of %d characters, max %d: %q", where, lang, n, max, line)
				}
			}
		}
	}
	for _, st := range stages {
		check(st.ID+" intro", st.Intro)
		for _, step := range st.Steps {
			check(st.ID+"/"+step.ID+" text", step.Text)
			for i, h := range step.Hints {
				check(st.ID+"/"+step.ID+" hint "+string(rune('1'+i)), h)
			}
		}
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		arg  string
		want string
	}{
		{"tahap-1", "tahap-1"},
		{"1", "tahap-1"},
		{"5", "tahap-5"},
		{" Tahap-2 ", "tahap-2"},
		{"03", "tahap-3"},
	}
	for _, tt := range tests {
		st, err := lessons.Find(tt.arg)
		if err != nil {
			t.Errorf("Find(%q): %v", tt.arg, err)
			continue
		}
		if st.ID != tt.want {
			t.Errorf("Find(%q) = %s, want %s", tt.arg, st.ID, tt.want)
		}
	}
}

func TestFindUnknownListsChoices(t *testing.T) {
	for _, arg := range []string{"tahap-9", "0", "x", "", "tahap-1/..", "-1"} {
		_, err := lessons.Find(arg)
		if !usererr.Is(err, "ErrStageUnknown") {
			t.Errorf("Find(%q) error = %v, want ErrStageUnknown", arg, err)
			continue
		}
		if usererr.ExitCode(err) != usererr.ExitUsage {
			t.Errorf("Find(%q): exit code %d, want %d", arg, usererr.ExitCode(err), usererr.ExitUsage)
		}
		if msg := err.Error(); !strings.Contains(msg, "tahap-1, tahap-2, tahap-3, tahap-4, tahap-5") {
			t.Errorf("Find(%q) message %q does not list the stages", arg, msg)
		}
	}
}

func TestParseRejectsUnknownKey(t *testing.T) {
	_, err := lessons.Parse("tahap-9.yaml", []byte("id: tahap-9\nnumber: 9\ntittle: {id: a, en: b}\n"))
	if err == nil || !strings.Contains(err.Error(), "tittle") {
		t.Errorf("Parse error = %v, want one naming the unknown key tittle", err)
	}
}

func TestParseRejectsEmptyFile(t *testing.T) {
	if _, err := lessons.Parse("tahap-9.yaml", nil); err == nil {
		t.Error("Parse of an empty file succeeded")
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		line    string
		want    []string
		wantErr bool
	}{
		{"rt-lab run-container rumah-jakarta -- hostname", []string{"rt-lab", "run-container", "rumah-jakarta", "--", "hostname"}, false},
		{"rt-lab run-container rumah-jakarta -- sh -c 'sleep 1000 >/dev/null 2>&1 &'",
			[]string{"rt-lab", "run-container", "rumah-jakarta", "--", "sh", "-c", "sleep 1000 >/dev/null 2>&1 &"}, false},
		{`echo "a b" c\ d`, []string{"echo", "a b", "c d"}, false},
		{"echo $HOME", []string{"echo", "$HOME"}, false},
		{"sh -c 'unbalanced", nil, true},
		{"   ", nil, true},
	}
	for _, tt := range tests {
		got, err := lessons.SplitCommand(tt.line)
		if (err != nil) != tt.wantErr {
			t.Errorf("SplitCommand(%q) error = %v, want error %v", tt.line, err, tt.wantErr)
			continue
		}
		if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") {
			t.Errorf("SplitCommand(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}
