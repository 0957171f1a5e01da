package parsers

// Reuse of XML walkers across requests, through the Splitter's pool: a
// walker's buffers, scanner window and interned names outlive a request, so
// a typical body allocates little beyond its items.

// prepare readies a pooled walker for a request. It keeps buffers and
// interned names from earlier ones, never anything of an item: items live
// in chunks the walker lets go of in release.
func (w *xmlWalker) prepare(s *Splitter, emit func([]byte) error) {
	sc := &w.sc
	sc.nameBuf, sc.open, sc.opens = sc.nameBuf[:0], sc.open[:0], sc.opens[:0]
	sc.attrs, sc.vals, sc.text = sc.attrs[:0], sc.vals[:0], sc.text[:0]
	clear(w.frames[:cap(w.frames)]) // their texts and maps are the last request's
	w.s, w.emit, w.frames, w.build, w.wrap, w.out, w.room = s, emit, w.frames[:0], -1, false, nil, 1<<10
	w.tree.reset()
}

// release returns w to the pool, unless a huge item left it with buffers
// not worth keeping.
func (s *Splitter) release(w *xmlWalker) {
	w.sc.done() // keeps its buffer unless huge; never the caller's body
	w.s, w.emit, w.out, w.tree.names = nil, nil, nil, nil
	w.sc.forgetNames()
	const big = 1 << 20
	if cap(w.tree.text) > big || cap(w.tree.nodes) > big/64 || cap(w.sc.vals) > big || cap(w.sc.text) > big || cap(w.sc.open) > big/16 || cap(w.frames) > maxDepth {
		return
	}
	s.xmlPool.Put(w)
}
