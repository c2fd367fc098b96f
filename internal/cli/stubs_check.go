package cli

// Placeholder constructor; the checker work replaces this file.

import "github.com/spf13/cobra"

func (a *App) newCheckCmd() *cobra.Command { return &cobra.Command{Use: "check", Hidden: true} }
