// headload: a small HTTP load generator for HEAD requests (wrk waits for a body after a
// HEAD response; ab speaks HTTP/1.0, which Hummingbird answers as HTTP/1.1 without
// closing). Keep-alive connections, each in its own goroutine, for a fixed time.
//
//	go run bench/headload.go -c 64 -d 10s URL
//
// Prints one line: RESULT requests=N bytes=0 duration_us=D errors=E p50_us=P p99_us=Q
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	conns := flag.Int("c", 64, "connections")
	duration := flag.Duration("d", 10*time.Second, "duration")
	method := flag.String("m", http.MethodHead, "method")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: headload [-c N] [-d DURATION] [-m METHOD] URL")
		os.Exit(2)
	}
	url := flag.Arg(0)
	transport := &http.Transport{MaxIdleConns: *conns, MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true}
	client := &http.Client{Transport: transport}
	var errors atomic.Int64
	latencies := make([][]time.Duration, *conns)
	start := time.Now()
	deadline := start.Add(*duration)
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t := time.Now()
				req, _ := http.NewRequest(*method, url, nil)
				resp, err := client.Do(req)
				if err != nil {
					errors.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errors.Add(1)
					continue
				}
				latencies[i] = append(latencies[i], time.Since(t))
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(p float64) int64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p/100*float64(len(all))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		return all[i].Microseconds()
	}
	fmt.Printf("RESULT requests=%d bytes=0 duration_us=%d errors=%d p50_us=%d p99_us=%d\n",
		len(all), elapsed.Microseconds(), errors.Load(), pct(50), pct(99))
}
