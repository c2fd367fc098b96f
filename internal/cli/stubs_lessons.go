package cli

// Placeholder constructors; the lessons work replaces this file.

import "github.com/spf13/cobra"

func (a *App) newStartCmd() *cobra.Command   { return &cobra.Command{Use: "start", Hidden: true} }
func (a *App) newLessonsCmd() *cobra.Command { return &cobra.Command{Use: "lessons", Hidden: true} }
func (a *App) newHintCmd() *cobra.Command    { return &cobra.Command{Use: "hint", Hidden: true} }
func (a *App) newResetCmd() *cobra.Command   { return &cobra.Command{Use: "reset", Hidden: true} }
