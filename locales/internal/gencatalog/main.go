// Command gencatalog writes locales/catalog_gen.go from the YAML message
// catalogs locales/*.yaml. It runs through `go generate ./locales`, which
// starts it in the locales folder, and reads and writes there.
package main

import (
	"fmt"
	"os"

	"github.com/rt-lab/rt-lab/locales/internal/catalogyaml"
)

const output = "catalog_gen.go"

func main() {
	src, err := catalogyaml.Source(os.DirFS("."))
	if err != nil {
		fmt.Fprintf(os.Stderr, "gencatalog: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(output, src, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "gencatalog: %v\n", err)
		os.Exit(1)
	}
}
