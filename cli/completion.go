package cli

import "fmt"

var commands = []string{"validate", "fmt", "plan", "apply", "destroy", "test", "show", "output", "state", "inspect", "graph",
	"exec", "ssh", "capture", "logs", "fault", "init", "force-unlock", "completion", "version", "help"}

func (u *ui) completion(args []string) int {
	fs := newFlags(u, "completion", "completion bash|zsh|fish\n\nPrints a completion script.\n\nExamples:\n  source <(labnet completion bash)\n  labnet completion fish > ~/.config/fish/completions/labnet.fish")
	if fs.Parse(args) != nil || fs.NArg() != 1 {
		u.errorf("usage: labnet completion bash|zsh|fish")
		return 1
	}
	cmds := ""
	for _, c := range commands {
		cmds += c + " "
	}
	switch fs.Arg(0) {
	case "bash":
		fmt.Fprintf(u.stdout, `# labnet bash completion
_labnet() {
  local cur=${COMP_WORDS[COMP_CWORD]} i cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac
  done
  if [ -z "$cmd" ]; then
    COMPREPLY=($(compgen -W "%s -chdir= -help -version" -- "$cur"))
    return
  fi
  case $cmd in
    plan) COMPREPLY=($(compgen -W "-out= -detailed-exitcode -destroy -refresh-only -refresh=false -json -var -var-file= -target= -replace= -parallelism= -state=" -- "$cur")) ;;
    apply|destroy) COMPREPLY=($(compgen -W "-auto-approve -quiet -refresh=false -json -var -var-file= -target= -replace= -parallelism= -state=" -- "$cur")) ;;
    test) COMPREPLY=($(compgen -W "-junit= -json -run= -var -var-file= -state= -parallelism=" -- "$cur")) ;;
    graph) COMPREPLY=($(compgen -W "-format=dot -format=mermaid -format=svg -o" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
    state) COMPREPLY=($(compgen -W "list rm-hostkey" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -F _labnet labnet
`, cmds)
	case "zsh":
		fmt.Fprintf(u.stdout, `#compdef labnet
# labnet zsh completion
_labnet() {
  if (( CURRENT == 2 )); then
    compadd -- %s
  else
    case $words[2] in
      completion) compadd -- bash zsh fish ;;
      state) compadd -- list rm-hostkey ;;
      *) _files ;;
    esac
  fi
}
compdef _labnet labnet
`, cmds)
	case "fish":
		fmt.Fprintf(u.stdout, "# labnet fish completion\ncomplete -c labnet -f -n __fish_use_subcommand -a '%s'\n", cmds)
		fmt.Fprintln(u.stdout, "complete -c labnet -f -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'")
		fmt.Fprintln(u.stdout, "complete -c labnet -f -n '__fish_seen_subcommand_from state' -a 'list rm-hostkey'")
	default:
		u.errorf("unknown shell %q: bash, zsh or fish", fs.Arg(0))
		return 1
	}
	return 0
}
