package processor

import (
	"testing"
	"time"

	"github.com/kuniq/kuniq/codec"
	"github.com/kuniq/kuniq/window"
)

// TestPreAggFrameConfig checks that stage 1 decodes with Config.Engine.Frame: a nested uid
// path and millisecond timestamps (numbers and strings) count, a root uid does not.
func TestPreAggFrameConfig(t *testing.T) {
	cfg := stage1Config()
	cfg.Engine.Frame = codec.FrameConfig{UIDField: "user.id", TSUnit: time.Millisecond}
	s := newStage1(t, cfg)
	cl := s.claim(1, 0, 0)
	for _, l := range []string{
		`{"user":{"id":"a"},"ts":1468244384000}`,
		`{"user":{"id":"b"},"ts":"1468244385123"}`,
		`{"uid":"c","ts":1468244386000}`,
		`{"user":{"id":42},"ts":1468244387000}`,
	} {
		cl.send([]byte(l))
	}
	cl.applied()
	cl.end()
	var frames int64
	for k, ps := range s.drain().partials {
		if k.Granularity == window.Minute && k.Start == 1468244340 {
			frames += stage2Frames(ps)
		}
	}
	if frames != 3 {
		t.Errorf("minute 1468244340: stage 2 counts %d frames, want 3", frames)
	}
	dead := s.dead()
	if len(dead) != 1 || dead[0].Reason != "no_uid" || dead[0].Offset != 2 {
		t.Errorf("dead letters %+v, want one no_uid at offset 2", dead)
	}
}
