// Package delivery makes one outbound webhook attempt and decides when the
// next one is due.
//
// Every connection goes through a Guard that checks the IP address actually
// being dialled, after DNS resolution, so a hostname that resolves (or later
// re-resolves) to a loopback, private, link-local or metadata address is
// refused before a single byte is sent. Redirects are never followed and
// proxies from the environment are never used, because either would let a
// request reach an address the guard did not see.
package delivery
