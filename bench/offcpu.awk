# Sums off-CPU time from a system-wide `perf record -a -e sched:sched_switch -g`,
# read through `perf script -F comm,tid,time,event,trace,ip,sym`. A thread of
# one of the commands in -v comms=a,b is off the CPU from the switch that
# takes it off (it is prev_pid and not runnable) until the switch that puts
# it back (it is next_pid). Each interval is keyed by the innermost rt-lab
# function on the stack taken when it went off, else the innermost Go runtime
# function, and by the first two kernel functions below the scheduler, which
# name what it waited for.
# Output: total ms, number of waits, "function | kernel wait".
function finish(   key) {
	if (!have) {
		return
	}
	if (next_tid in off_at) {
		key = off_key[next_tid]
		total[key] += now - off_at[next_tid]
		count[key]++
		delete off_at[next_tid]
	}
	if ((prev_comm in wanted) && prev_state !~ /^R/) {
		off_at[prev_tid] = now
		off_key[prev_tid] = stack_key()
	}
	have = 0
	depth = 0
}

function stack_key(   i, f, fn, goruntime, wait, n) {
	fn = ""
	goruntime = ""
	wait = ""
	n = 0
	for (i = 0; i < depth; i++) {
		f = frames[i]
		if (fn == "" && f ~ /github\.com\/rt-lab\/rt-lab\// && f !~ /\/bench\./) {
			fn = f
			sub(/github\.com\/rt-lab\/rt-lab\//, "", fn)
		}
		if (goruntime == "" && f ~ /^runtime\./) {
			goruntime = "go:" f
		}
		if (n < 2 && f !~ /^(github\.com|golang\.org|runtime\.|syscall\.|internal\/|os\.|testing\.|main\.|\[unknown\])/ &&
			f !~ /^(__schedule|schedule|schedule_timeout|schedule_hrtimeout_range(_clock)?|io_schedule|__cond_resched|preempt_schedule_common|schedule_preempt_disabled|exit_to_user_mode_loop|irqentry_exit_to_user_mode|wait_for_completion|do_syscall_64|entry_SYSCALL_64_after_hwframe)$/) {
			wait = wait (n ? " < " : "") f
			n++
		}
	}
	if (fn == "") {
		fn = goruntime == "" ? "?" : goruntime
	}
	return fn " | " wait
}

BEGIN {
	split(comms, list, ",")
	for (i in list) {
		wanted[list[i]] = 1
	}
}

/ sched:sched_switch: / {
	finish()
	for (i = 1; i <= NF; i++) {
		if ($i ~ /^[0-9]+\.[0-9]+:$/) {
			now = substr($i, 1, length($i) - 1) + 0
		} else if ($i ~ /^prev_comm=/) {
			prev_comm = substr($i, 11)
		} else if ($i ~ /^prev_pid=/) {
			prev_tid = substr($i, 10)
		} else if ($i ~ /^prev_state=/) {
			prev_state = substr($i, 12)
		} else if ($i ~ /^next_pid=/) {
			next_tid = substr($i, 10)
		}
	}
	have = 1
	next
}

have && NF >= 2 {
	sym = $2
	sub(/\+0x[0-9a-f]+$/, "", sym)
	frames[depth++] = sym
}

END {
	finish()
	for (key in total) {
		printf "%9.1f ms %6d  %s\n", total[key] * 1000, count[key], key
	}
}
