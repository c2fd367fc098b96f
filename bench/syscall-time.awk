# Sums the wall time of the system calls in the output of
# `perf trace --duration MS --call-graph fp`, keyed by the call and by the
# innermost rt-lab function on its stack. Calls with no rt-lab function on
# the stack, such as the Go runtime's idle threads, are left out.
# Output: total ms, number of calls, "syscall <- package.function".
function flush() {
	# perf trace prints a wrapped-around duration (about 1.8e13 ms) for some
	# calls that began before it attached; those are dropped.
	if (dur > 0 && dur < 1e7 && fn != "") {
		key = call " <- " fn
		total[key] += dur
		count[key]++
	}
	dur = 0
	fn = ""
	call = ""
}

# A call line: "  TIME ( DURATION ms): COMM/TID NAME(ARGS) = RESULT"
/^ *[0-9.]+ \( *[0-9.]+ ms\):/ {
	flush()
	match($0, /\( *[0-9.]+ ms\)/)
	d = substr($0, RSTART + 1, RLENGTH - 5)
	gsub(/ /, "", d)
	dur = d + 0
	rest = substr($0, RSTART + RLENGTH + 2)
	sub(/^[^ ]+ +/, "", rest)
	sub(/^\.\.\. \[continued\]: /, "", rest)
	match(rest, /^[a-z_0-9]+/)
	call = substr(rest, RSTART, RLENGTH)
	next
}

# Stack lines follow, innermost first.
fn == "" && /github\.com\/rt-lab\/rt-lab\/(runtime|network|internal|checker|lessons)/ {
	fn = $1
	sub(/github\.com\/rt-lab\/rt-lab\//, "", fn)
}

END {
	flush()
	for (key in total) {
		printf "%9.1f ms %6d  %s\n", total[key], count[key], key
	}
}
