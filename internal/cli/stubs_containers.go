package cli

import "github.com/spf13/cobra"

func (a *App) newCreateCmd() *cobra.Command {
	return &cobra.Command{Use: "create-container", Hidden: true}
}
func (a *App) newRunCmd() *cobra.Command  { return &cobra.Command{Use: "run-container", Hidden: true} }
func (a *App) newStopCmd() *cobra.Command { return &cobra.Command{Use: "stop-container", Hidden: true} }
func (a *App) newDeleteCmd() *cobra.Command {
	return &cobra.Command{Use: "delete-container", Hidden: true}
}
func (a *App) newListCmd() *cobra.Command {
	return &cobra.Command{Use: "list-containers", Hidden: true}
}
