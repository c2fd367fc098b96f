package lessons_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rt-lab/rt-lab/lessons"
	"github.com/rt-lab/rt-lab/locales"
)

func mustFind(t *testing.T, id string) *lessons.Stage {
	t.Helper()
	st, err := lessons.Find(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestTahap3CPUBeforePids keeps burn-cpu ahead of the pids step: the 80
// sleeps of the pids step fork under the 25% CPU quota and throttle the house
// by themselves, so after them the CPU step would pass without burn-cpu.
func TestTahap3CPUBeforePids(t *testing.T) {
	st := mustFind(t, "tahap-3")
	var ids []string
	for _, step := range st.Steps {
		ids = append(ids, step.ID)
	}
	want := []string{"bangun-rumah-hemat", "tagihan-listrik", "bagi-daya", "batas-penghuni", "listrik-diputus"}
	if !slices.Equal(ids, want) {
		t.Fatalf("steps %v, want %v", ids, want)
	}
	// The intro lists the steps in the same order.
	for lang, words := range map[locales.Lang][]string{
		locales.ID: {"1. membangun", "2. membaca tagihan", "3. memeras CPU", "4. membatasi jumlah", "5. melewati kuota"},
		locales.EN: {"1. build", "2. read its", "3. work the CPU", "4. limit the number", "5. go over"},
	} {
		intro := st.Intro.In(lang)
		for _, w := range words {
			if !strings.Contains(intro, w) {
				t.Errorf("%s intro does not list %q", lang, w)
			}
		}
	}
}

// TestTahap3FirstSolutionUpdatesExistingHouse checks that the first step's
// solution falls back to update-container, so it passes for a house left with
// other limits.
func TestTahap3FirstSolutionUpdatesExistingHouse(t *testing.T) {
	st := mustFind(t, "tahap-3")
	args, err := lessons.SplitCommand(st.Steps[0].Solution[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(args) != 3 || args[0] != "sh" || args[1] != "-c" {
		t.Fatalf("solution %q, want one sh -c line", args)
	}
	script := args[2]
	create, update, ok := strings.Cut(script, " || ")
	if !ok || !strings.HasPrefix(create, "rt-lab create-container rumah-hemat --ram 64 --cpu 25") ||
		update != "rt-lab update-container rumah-hemat --ram 64 --cpu 25" {
		t.Errorf("solution script %q, want create ... || update-container with 64 MiB and 25%%", script)
	}
}

// placeholder matches the upper-case words that commands use for a value the
// student fills in, such as BRIDGE-NAME.
var placeholder = regexp.MustCompile(`\b[A-Z]{2,}(?:-[A-Z]{2,})+\b`)

// TestTahap34TextsMatchCommands checks what the tester found in the texts of
// tahap 3 and 4: placeholders in the text that the command block spells
// otherwise, and column names that the list in that language does not have.
func TestTahap34TextsMatchCommands(t *testing.T) {
	headers := map[locales.Lang]string{}
	for _, lang := range locales.Langs {
		headers[lang] = locales.For(lang).T("ListHeader", nil)
	}
	columns := map[locales.Lang]*regexp.Regexp{
		locales.ID: regexp.MustCompile(`[Kk]olom ([A-Z]+)(?: dan ([A-Z]+))?`),
		locales.EN: regexp.MustCompile(`[Tt]he ([A-Z]+)(?: and ([A-Z]+))? columns?`),
	}
	for _, id := range []string{"tahap-3", "tahap-4"} {
		st := mustFind(t, id)
		for _, step := range st.Steps {
			commands := strings.Join(append(append([]string{}, step.Commands...), step.Inside...), "\n")
			for _, lang := range locales.Langs {
				text := step.Text.In(lang)
				for _, p := range placeholder.FindAllString(text, -1) {
					if !strings.Contains(commands, p) {
						t.Errorf("%s %s (%s): the text names %s, which no command has", id, step.ID, lang, p)
					}
				}
				for _, m := range columns[lang].FindAllStringSubmatch(text, -1) {
					for _, col := range m[1:] {
						if col != "" && !slices.Contains(strings.Split(headers[lang], "\t"), col) {
							t.Errorf("%s %s (%s): the text names column %s, not in %q", id, step.ID, lang, col, headers[lang])
						}
					}
				}
			}
		}
	}
}

// TestTahap34InsideFollowsItsHouse checks that the lines to type inside a
// house belong to the shell that the step's last command opens, as the tutor
// shows them. So the last command opens a house, and exit comes last if at
// all.
func TestTahap34InsideFollowsItsHouse(t *testing.T) {
	for _, id := range []string{"tahap-3", "tahap-4"} {
		for _, step := range mustFind(t, id).Steps {
			if len(step.Inside) == 0 {
				continue
			}
			last, err := lessons.SplitCommand(step.Commands[len(step.Commands)-1])
			if err != nil {
				t.Fatal(err)
			}
			if len(last) != 3 || last[0] != "rt-lab" || last[1] != "run-container" {
				t.Errorf("%s %s: the last command %q does not open a house's shell for %q", id, step.ID, last, step.Inside)
			}
			for i, line := range step.Inside {
				if line == "exit" && i != len(step.Inside)-1 {
					t.Errorf("%s %s: %q follows exit, outside the house that the commands opened",
						id, step.ID, step.Inside[i+1:])
				}
			}
		}
	}
	// The shop of step 5 listens in rumah-depok; the shell is rumah-bogor's.
	for _, step := range mustFind(t, "tahap-4").Steps {
		if step.ID != "warung-8080" {
			continue
		}
		for _, line := range step.Inside {
			if strings.Contains(line, "nc -l") {
				t.Errorf("warung-8080: %q is typed in rumah-bogor's shell but must run in rumah-depok", line)
			}
		}
	}
}
