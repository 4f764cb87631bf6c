package bolt

// WithDirectCommit turns group commit off, for benchmarks that compare.
func WithDirectCommit() Option { return func(o *options) { o.directCommit = true } }
