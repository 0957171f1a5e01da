package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// watchConfig sends on reloads when a file under path changes; editors
// write in bursts, so events are coalesced for a short while. The func it
// returns stops the watch and waits for its goroutine to end.
func watchConfig(path string, reloads chan<- string, log *zap.Logger) (func(), error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("--watch: %w", err)
	}
	dir := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		// Watch the directory: editors replace files, which drops a file watch.
		dir = filepath.Dir(path)
	}
	if err := w.Add(dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("--watch %s: %w", dir, err)
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		var timer <-chan time.Time
		for {
			select {
			case <-done:
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				ext := filepath.Ext(ev.Name)
				if ext == ".yaml" || ext == ".yml" {
					timer = time.After(200 * time.Millisecond)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				log.Warn("config watch", zap.Error(err))
			case <-timer:
				timer = nil
				select {
				case reloads <- "watch":
				default: // a reload is already pending
				}
			}
		}
	}()
	return func() { close(done); w.Close(); <-finished }, nil
}
