// os.ReadFile from Go, whose runtime makes its system calls itself (raw
// `syscall` instructions, no C library function): for --all-syscalls
// (bintest/all_syscalls_test.rb). The cgo import links it dynamically, so
// that the preload library loads into it.
//
//	goread PATH       prints "read: " and PATH's bytes, or "error: " and why
//	goread PATH N     N goroutines read PATH 50 times each, on as many
//	                  threads as the runtime likes (preempted by its SIGURG):
//	                  prints how many reads succeeded
package main

// #include <unistd.h>
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

func main() {
	_ = C.getpid()
	if len(os.Args) > 2 {
		n, _ := strconv.Atoi(os.Args[2])
		var ok int64
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 50; j++ {
					if _, err := os.ReadFile(os.Args[1]); err == nil {
						atomic.AddInt64(&ok, 1)
					}
				}
			}()
		}
		wg.Wait()
		fmt.Printf("reads: %d\n", ok)
		return
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("read: %s", data)
}
