package locales

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// messageCall describes a function that takes a message id and its template
// fields: the id is argument idArg, and from argument fieldsArg on come either
// name, value pairs (pairs) or one map of fields.
type messageCall struct {
	idArg, fieldsArg int
	pairs            bool
	checkFields      bool // false for a call that takes no fields, such as usererr.Is
}

// messageCalls maps a callee, as "receiver-or-package.Name" or a bare local
// function name qualified by the folder it is declared in, to its layout.
var messageCalls = map[string]messageCall{
	".T":                     {0, 1, false, true},
	".Tf":                    {0, 1, true, true},
	"usererr.New":            {1, 2, true, true},
	"usererr.Wrap":           {2, 3, true, true},
	"usererr.Is":             {1, 0, false, false},
	"internal/cli:a.info":    {1, 2, true, true},
	"internal/cli:a.confirm": {1, 2, true, true},
	"lessons:v.add":          {1, 2, true, true},
	"checker:fail":           {0, 1, true, true},
	"internal/diag:msg":      {0, 1, true, true},
}

// TestMessageCallsMatchCatalogs reads every non-test Go file of the module and
// checks each call that renders a message with a literal or constant id. The
// id must be in the catalogs. When the call names its fields as literals, it
// must pass every field that the template uses, because a missing or misspelt
// one renders as "<no value>". Extra fields are allowed: several calls pass
// data that only one language or a later reader uses. Ids built at run time
// and fields passed on with kv... are not checked here.
func TestMessageCallsMatchCatalogs(t *testing.T) {
	cat, err := Catalog(EN)
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above the locales folder: %v", err)
	}

	fset := token.NewFileSet()
	files := map[string][]*ast.File{} // folder relative to root -> files
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Errorf("parse %s: %v", path, err)
			return nil
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		files[filepath.ToSlash(dir)] = append(files[filepath.ToSlash(dir)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	checked := 0
	for dir, dirFiles := range files {
		consts := stringConsts(dirFiles)
		for _, f := range dirFiles {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				mc, ok := lookupCall(dir, call)
				if !ok || mc.idArg >= len(call.Args) {
					return true
				}
				id, ok := stringValue(call.Args[mc.idArg], consts)
				if !ok {
					return true // an id built at run time
				}
				where := fset.Position(call.Pos()).String()
				where = strings.TrimPrefix(where, root+string(filepath.Separator))
				text, known := cat[id]
				if !known {
					t.Errorf("%s: message id %q is not in the catalogs", where, id)
					return true
				}
				checked++
				if !mc.checkFields {
					return true
				}
				passed, ok := passedFields(call, mc, consts)
				if !ok {
					return true
				}
				want := templateFields(text)
				for _, f := range want {
					if !slices.Contains(passed, f) {
						t.Errorf("%s: %s uses the field %s, which the call does not pass (passed: %v)", where, id, f, passed)
					}
				}
				return true
			})
		}
	}
	t.Logf("checked %d message calls", checked)
	if checked < 100 {
		t.Errorf("only %d message calls found: the patterns in messageCalls no longer match the code", checked)
	}
}

// lookupCall returns the layout of call when its callee is a message function.
func lookupCall(dir string, call *ast.CallExpr) (messageCall, bool) {
	var keys []string
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		name := fn.Sel.Name
		keys = append(keys, "."+name)
		if x, ok := fn.X.(*ast.Ident); ok {
			keys = append(keys, x.Name+"."+name, dir+":"+x.Name+"."+name)
		}
	case *ast.Ident:
		keys = append(keys, dir+":"+fn.Name)
	}
	// The most specific key wins: folder and receiver, then receiver, then name.
	for i := len(keys) - 1; i >= 0; i-- {
		if mc, ok := messageCalls[keys[i]]; ok {
			return mc, true
		}
	}
	return messageCall{}, false
}

// passedFields returns the field names that call passes, and false when they
// are not all literal: a kv... argument, a map built elsewhere, or a name in a
// variable.
func passedFields(call *ast.CallExpr, mc messageCall, consts map[string]string) ([]string, bool) {
	if call.Ellipsis.IsValid() {
		return nil, false
	}
	args := call.Args[min(mc.fieldsArg, len(call.Args)):]
	if mc.pairs {
		if len(args)%2 != 0 {
			return nil, false
		}
		var names []string
		for i := 0; i < len(args); i += 2 {
			name, ok := stringValue(args[i], consts)
			if !ok {
				return nil, false
			}
			names = append(names, name)
		}
		return names, true
	}
	if len(args) != 1 {
		return nil, false
	}
	switch data := args[0].(type) {
	case *ast.Ident:
		if data.Name == "nil" {
			return []string{}, true
		}
	case *ast.CompositeLit:
		names := []string{}
		for _, elt := range data.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				return nil, false
			}
			name, ok := stringValue(kv.Key, consts)
			if !ok {
				return nil, false
			}
			names = append(names, name)
		}
		return names, true
	case *ast.CallExpr:
		if sel, ok := data.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Fields" {
			return passedFields(data, messageCall{fieldsArg: 0, pairs: true}, consts)
		}
	}
	return nil, false
}

// stringValue returns the value of a string literal, or of a string constant
// of the same folder.
func stringValue(e ast.Expr, consts map[string]string) (string, bool) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(v.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := consts[v.Name]
		return s, ok
	}
	return "", false
}

// stringConsts returns the package-level constants of files whose value is a
// string literal.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if s, ok := stringValue(vs.Values[i], nil); ok {
							out[name.Name] = s
						}
					}
				}
			}
		}
	}
	return out
}
