package report

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// schemaObject is the part of a JSON Schema object definition that the test
// compares with the Go types.
type schemaObject struct {
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// TestSchemaFileMatchesTypes keeps docs/report-schema.json in step with the
// types that write the report: the same keys, and every key that is always
// written is required.
func TestSchemaFileMatchesTypes(t *testing.T) {
	data, err := os.ReadFile("../../docs/report-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		schemaObject
		Properties map[string]struct {
			Const json.RawMessage `json:"const"`
		} `json:"properties"`
		Defs map[string]schemaObject `json:"$defs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docs/report-schema.json is not valid JSON: %v", err)
	}
	if got := string(doc.Properties["format"].Const); got != `"`+Format+`"` {
		t.Errorf("schema file: format const %s, want %q", got, Format)
	}
	if got := string(doc.Properties["schema"].Const); got != "1" || SchemaVersion != 1 {
		t.Errorf("schema file: schema const %s, SchemaVersion %d; update both together", got, SchemaVersion)
	}
	top := schemaObject{Required: doc.Required, Properties: map[string]json.RawMessage{}}
	for key := range doc.Properties {
		top.Properties[key] = nil
	}

	for name, tc := range map[string]struct {
		obj schemaObject
		typ reflect.Type
	}{
		"report": {top, reflect.TypeFor[Report]()},
		"stage":  {doc.Defs["stage"], reflect.TypeFor[Stage]()},
		"step":   {doc.Defs["step"], reflect.TypeFor[Step]()},
	} {
		keys, required := jsonKeys(tc.typ)
		var props []string
		for key := range tc.obj.Properties {
			props = append(props, key)
		}
		slices.Sort(props)
		slices.Sort(keys)
		if !slices.Equal(props, keys) {
			t.Errorf("%s: schema properties %v, Go keys %v", name, props, keys)
		}
		schemaRequired := slices.Sorted(slices.Values(tc.obj.Required))
		slices.Sort(required)
		if !slices.Equal(schemaRequired, required) {
			t.Errorf("%s: schema requires %v, Go always writes %v", name, schemaRequired, required)
		}
	}
}

// jsonKeys returns the JSON keys of struct type typ and those written always,
// that is without omitempty.
func jsonKeys(typ reflect.Type) (keys, always []string) {
	for field := range typ.Fields() {
		name, opts, _ := strings.Cut(field.Tag.Get("json"), ",")
		keys = append(keys, name)
		if !strings.Contains(opts, "omitempty") {
			always = append(always, name)
		}
	}
	return keys, always
}
