package window_test

import (
	"fmt"
	"time"

	"github.com/kuniq/kuniq/window"
)

func ExampleAppendKeys() {
	gs, _ := window.ParseList("minute,week,month")
	for _, k := range window.AppendKeys(nil, 1468244384, gs) {
		fmt.Println(k, time.Unix(k.Start, 0).UTC().Format(time.DateTime), "to", time.Unix(k.End(), 0).UTC().Format(time.DateTime))
	}
	// Output:
	// minute/1468244340 2016-07-11 13:39:00 to 2016-07-11 13:40:00
	// week/1468195200 2016-07-11 00:00:00 to 2016-07-18 00:00:00
	// month/1467331200 2016-07-01 00:00:00 to 2016-08-01 00:00:00
}

func ExampleParseKey() {
	k, err := window.ParseKey("hour/1468242000")
	fmt.Println(k.Granularity, k.Start, k.End(), err)
	_, err = window.ParseKey("hour/1468244340")
	fmt.Println(err)
	// Output:
	// hour 1468242000 1468245600 <nil>
	// parse key "hour/1468244340": window: not a window start
}

// A bit-flipped timestamp is held, then rejected by the normal frames that
// follow it; it never moves the watermark.
func ExampleClock() {
	c := window.NewClock[string](window.DefaultConfig())
	show := func(name string, ts int64, v window.Verdict) { fmt.Println(name, v) }
	ts := int64(1468244384)
	for i := range 8 {
		c.Observe(ts+int64(i), fmt.Sprint("frame", i), show)
	}
	c.Observe(ts^(1<<31), "flipped", show)
	for i := 8; i < 16; i++ {
		c.Observe(ts+int64(i), fmt.Sprint("frame", i), show)
	}
	fmt.Println("watermark", c.Watermark(), "held", c.Held())
	// Output:
	// frame0 accept
	// frame1 accept
	// frame2 accept
	// frame3 accept
	// frame4 accept
	// frame5 accept
	// frame6 accept
	// frame7 accept
	// frame8 accept
	// frame9 accept
	// frame10 accept
	// frame11 accept
	// frame12 accept
	// frame13 accept
	// frame14 accept
	// flipped ts_jump
	// frame15 accept
	// watermark 1468244394 held 0
}

func ExampleInputWatermark() {
	// The wall clock minus the out-of-orderness: in the pipeline, time.Now().Unix() - 5.
	wall := int64(1468244450)
	parts := []window.Progress{window.NotHeard, window.NotHeard}
	parts[0] = parts[0].Advance(window.Progress{Watermark: 1468244395, MaxTS: 1468244400})
	fmt.Printf("%+v\n", window.InputWatermark(parts, wall)) // partition 1 not heard from: holds everything
	parts[1] = parts[1].Advance(window.Progress{Watermark: 1468244300, MaxTS: 1468244305})
	fmt.Printf("%+v\n", window.InputWatermark(parts, wall))
	parts[1].Idle = true
	fmt.Printf("%+v\n", window.InputWatermark(parts, wall)) // partition 1 is idle
	parts[0].Idle = true
	// All idle: the watermark goes to the last event time seen, and every window that ended
	// on the wall clock is final (the minute 13:40 ended at ...400, the hour not yet).
	fmt.Printf("%+v\n", window.InputWatermark(parts, wall))
	// Output:
	// {Watermark:-9223372036854775808 Final:-9223372036854775808 Idle:false}
	// {Watermark:1468244300 Final:1468244300 Idle:false}
	// {Watermark:1468244395 Final:1468244395 Idle:false}
	// {Watermark:1468244401 Final:1468244450 Idle:true}
}
