// go_lookup: the reference Go client of the fidelity suite (test/fidelity).
//
//	go_lookup NAME [any|inet|inet6] [canon|nocanon] [REPEAT] [PAUSE_MS]
//
// Looks NAME up REPEAT times (default 1) in this one process, PAUSE_MS (default 0) apart, the way
// a typical Go program does, and prints one JSON line per lookup, the same shape as gai.c:
//
//	{"addresses":[...],"error":null|"EAI_NONAME"|"EAI_AGAIN"|"EAI_FAIL","canonname":null,
//	 "start_ms":<CLOCK_REALTIME ms with µs>,"elapsed_ms":<monotonic ms>}
//
// The lookup (Go 1.19, standard library only):
//   - any:   net.DefaultResolver.LookupIPAddr(context.Background(), NAME)
//     (= lookupIPAddr(ctx, "ip", NAME): A and AAAA);
//   - inet:  net.DefaultResolver.LookupIP(context.Background(), "ip4", NAME)  (A only);
//   - inet6: net.DefaultResolver.LookupIP(context.Background(), "ip6", NAME)  (AAAA only).
//
// Both return the addresses in the order Go's resolver produced them (its own resolver sorts
// them by RFC 6724, sortByRFC6724, for DNS answers and /etc/hosts entries alike; the cgo path
// keeps getaddrinfo's order); LookupIP only filters (filterAddrList: ip4 keeps To4() != nil, ip6
// keeps 16-byte non-v4-mapped addresses — a hosts entry of the other family, or a v4-mapped
// answer, leaves nothing: the *net.AddrError "no suitable address found"). They are printed in
// that order, never sorted or de-duplicated. (LookupHost would differ: its /etc/hosts answer
// is not sorted.) context.Background() has no Done channel: the cgo path calls getaddrinfo on
// the calling goroutine's thread, and Go's resolver has no overall deadline, only its per-try one.
//
// canonname: always null. The only way for a Go program to get it is net.LookupCNAME, which is
// a second full lookup — with Go's resolver goLookupCNAME runs goLookupIPCNAMEOrder again (the
// same A+AAAA queries once more); with cgo (only when the cgo resolver is chosen for the empty
// name, i.e. forced: RES_OPTIONS, LOCALDOMAIN, an unknown resolv.conf option, GODEBUG=netdns=cgo)
// another getaddrinfo(AI_CANONNAME). Either adds queries to the wire, so `canon` is accepted but
// not acted on.
//
// Error mapping (the gai names the suite uses), from net/dnsclient_unix.go, net/lookup.go,
// net/cgo_unix.go and net/net.go of Go 1.19:
//   - *net.DNSError with IsNotFound → EAI_NONAME. Go's resolver: NXDOMAIN (checkHeader), or a
//     NOERROR reply without a record of the asked type (skipToAnswer: "no such host"), or a name
//     that is not a domain name; cgo: getaddrinfo's EAI_NONAME.
//   - *net.DNSError with IsTimeout or IsTemporary (DNSError.Temporary()) → EAI_AGAIN. Go's
//     resolver: a try that timed out (IsTimeout), a socket error such as ECONNREFUSED from a
//     closed port (an *OpError: IsTemporary), SERVFAIL (errServerTemporarilyMisbehaving:
//     IsTemporary); cgo: getaddrinfo's EAI_AGAIN (addrinfoErrno.Temporary()).
//   - any other *net.DNSError → EAI_FAIL: REFUSED/FORMERR/NOTIMP ("server misbehaving"), a lame
//     referral, an unparseable reply; cgo: every other EAI_* code (EAI_FAIL, EAI_NODATA, ...;
//     their text, gai_strerror's, goes to stderr), EAI_SYSTEM.
//   - any other error (the *net.AddrError "no suitable address found" of LookupIP ip4/ip6) →
//     EAI_FAIL, with the error on stderr.
//
// The error of the whole lookup is the last one Go kept (lastErr; the original name's error is
// preferred over a search-list name's), so e.g. NXDOMAIN for the name itself after a timeout
// on a search name reads EAI_NONAME.
//
// Built at test time (never committed): CGO_ENABLED=0 (Go's resolver only: where Go would hand
// the lookup to the C library it falls back to its own resolver in files,dns order) and
// CGO_ENABLED=1 (Go picks per lookup: its own resolver, or getaddrinfo — conf.go hostLookupOrder;
// GODEBUG=netdns=2 prints the decision on stderr).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

type line struct {
	Addresses []string `json:"addresses"`
	Error     *string  `json:"error"`
	Canonname *string  `json:"canonname"`
	StartMs   float64  `json:"start_ms"`
	ElapsedMs float64  `json:"elapsed_ms"`
}

func eaiName(err error) string {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		switch {
		case dnsErr.IsNotFound:
			return "EAI_NONAME"
		case dnsErr.IsTimeout || dnsErr.IsTemporary:
			return "EAI_AGAIN"
		}
	}
	return "EAI_FAIL"
}

func lookup(ctx context.Context, family, name string) ([]string, error) {
	out := make([]string, 0, 4)
	switch family {
	case "inet", "inet6":
		network := "ip4"
		if family == "inet6" {
			network = "ip6"
		}
		ips, err := net.DefaultResolver.LookupIP(ctx, network, name)
		for _, ip := range ips {
			out = append(out, ip.String())
		}
		return out, err
	default:
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, name)
		for _, a := range addrs {
			out = append(out, a.IP.String())
		}
		return out, err
	}
}

func main() {
	args := os.Args
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go_lookup NAME [any|inet|inet6] [canon|nocanon] [REPEAT] [PAUSE_MS]")
		os.Exit(2)
	}
	name := args[1]
	family := "any"
	if len(args) > 2 {
		family = args[2]
		if family != "any" && family != "inet" && family != "inet6" {
			fmt.Fprintln(os.Stderr, "go_lookup: family must be any, inet or inet6")
			os.Exit(2)
		}
	}
	// args[3] (canon|nocanon): see the header — canonname is always null.
	repeat := 1
	if len(args) > 4 {
		if n, err := strconv.Atoi(args[4]); err == nil && n > 1 {
			repeat = n
		}
	}
	pauseMs := 0
	if len(args) > 5 {
		if n, err := strconv.Atoi(args[5]); err == nil && n > 0 {
			pauseMs = n
		}
	}
	enc := json.NewEncoder(os.Stdout)
	for i := 0; i < repeat; i++ {
		if i > 0 && pauseMs > 0 {
			time.Sleep(time.Duration(pauseMs) * time.Millisecond)
		}
		wall := time.Now() // wall clock (CLOCK_REALTIME) and a monotonic reading
		addrs, err := lookup(context.Background(), family, name)
		elapsed := time.Since(wall) // monotonic
		l := line{
			Addresses: addrs,
			StartMs:   float64(wall.UnixMicro()) / 1000,
			ElapsedMs: float64(elapsed.Microseconds()) / 1000,
		}
		if err != nil {
			e := eaiName(err)
			l.Error = &e
			l.Addresses = []string{}
			fmt.Fprintf(os.Stderr, "go_lookup: lookup %d: %s: %v\n", i+1, e, err)
		}
		if encErr := enc.Encode(l); encErr != nil {
			fmt.Fprintln(os.Stderr, "go_lookup:", encErr)
			os.Exit(1)
		}
	}
}
