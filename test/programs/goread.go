// os.ReadFile from Go, whose runtime makes its system calls itself (raw
// `syscall` instructions, no C library function): for --all-syscalls
// (bintest/all_syscalls_test.rb). The cgo import links it dynamically, so
// that the preload library loads into it.
//
//	goread PATH    prints "read: " and PATH's bytes, or "error: " and why
package main

// #include <unistd.h>
import "C"

import (
	"fmt"
	"os"
)

func main() {
	_ = C.getpid()
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("read: %s", data)
}
