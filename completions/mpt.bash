# SPDX-License-Identifier: Apache-2.0
# bash completion for mpt(1).  Installed by `cmake --install` into
# share/bash-completion/completions/mpt (loaded on demand by bash-completion).
# Option names come from `mpt COMMAND --help` itself, so they never drift
# from the program; values are completed for the options that take names or
# files.

_mpt_commands="sim cat perf proxy convert onpath analyze ss nstat monitor help"

# Control sockets of running mpt processes (mpt ss/nstat/monitor --ctl).
_mpt_ctl_sockets() {
	local d
	for d in /run/mpt "${XDG_RUNTIME_DIR:-/nonexistent}/mpt"; do
		[ -d "$d" ] && compgen -G "$d/*.sock"
	done
}

_mpt() {
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	cmd=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$_mpt_commands --help --version" -- "$cur"))
		return
	fi
	case "$prev" in
	--cc | -C | --congestion)
		COMPREPLY=($(compgen -W "cubic reno lia olia balia" -- "$cur")); return ;;
	--sched)
		COMPREPLY=($(compgen -W "minrtt rr redundant ecf" -- "$cur")); return ;;
	--pm)
		COMPREPLY=($(compgen -W "fullmesh ndiffports endpoints mobility none" -- "$cur")); return ;;
	--version)
		COMPREPLY=($(compgen -W "0 1" -- "$cur")); return ;;
	--pcap | --csv | --svg | --logfile | --json-out | -o | --out)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--ctl)
		COMPREPLY=($(compgen -W "$(_mpt_ctl_sockets) none" -- "$cur")); return ;;
	--path)
		COMPREPLY=($(compgen -W "ADDR/PLEN,dev=" -- "$cur")); return ;;
	-f | --format)
		COMPREPLY=($(compgen -W "k m g t K M G T" -- "$cur")); return ;;
	esac
	if [[ "$cur" == -* ]]; then
		local opts
		opts=$("${COMP_WORDS[0]}" "$cmd" --help 2>/dev/null | grep -Eo -- '(^|[ ,(\[])--?[A-Za-z0-9][A-Za-z0-9-]*' |
			sed 's/^[ ,(\[]//' | grep -E -- '^(--.*|-[A-Za-z0-9])$' | sort -u)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	case "$cmd" in
	analyze)
		COMPREPLY=($(compgen -f -X '!*.@(pcap|pcapng|cap)' -- "$cur") $(compgen -d -- "$cur")) ;;
	sim)
		COMPREPLY=($(compgen -f -X '!*.scn' -- "$cur") $(compgen -d -- "$cur")) ;;
	help)
		COMPREPLY=($(compgen -W "$_mpt_commands" -- "$cur")) ;;
	esac
}
complete -F _mpt mpt
