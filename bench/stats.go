package main

import (
	"fmt"
	"slices"
	"time"
)

// samples are the durations of repeated runs of one measurement.
type samples []time.Duration

// median returns the middle sample, or the mean of the two middle samples of
// an even count. It returns 0 for no samples.
func (s samples) median() time.Duration { return median(s) }

// median returns the middle value of values, or the mean of the two middle
// values of an even count, and 0 for no values.
func median[T int64 | time.Duration](values []T) T {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// spread returns the smallest and largest sample.
func (s samples) spread() (time.Duration, time.Duration) {
	if len(s) == 0 {
		return 0, 0
	}
	return slices.Min(s), slices.Max(s)
}

// slope fits y = a + b*x by least squares to the samples, taking the sample's
// index as x, and returns b: how much one more step adds. It returns 0 for
// fewer than two samples.
func (s samples) slope() time.Duration {
	n := float64(len(s))
	if n < 2 {
		return 0
	}
	var sumX, sumY, sumXY, sumXX float64
	for i, d := range s {
		x, y := float64(i), float64(d)
		sumX += x
		sumY += y
		sumXY += x * y
		sumXX += x * x
	}
	den := n*sumXX - sumX*sumX
	if den == 0 {
		return 0
	}
	return time.Duration((n*sumXY - sumX*sumY) / den)
}

// firstLast returns the medians of the first k and the last k samples, to
// show whether a step slows down as more houses exist.
func (s samples) firstLast(k int) (time.Duration, time.Duration) {
	k = min(k, len(s))
	return s[:k].median(), s[len(s)-k:].median()
}

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// ratio formats a / b, or "n/a" when b is zero.
func ratio(a, b time.Duration) string {
	if b == 0 || a == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

// kib formats a byte count in KiB with one decimal.
func kib(bytes float64) string {
	return fmt.Sprintf("%.1f KiB", bytes/1024)
}

// mib formats a byte count in MiB with one decimal.
func mib(bytes float64) string {
	return fmt.Sprintf("%.1f MiB", bytes/(1<<20))
}
