// Package proof is Baton's fault suite. See the package tests.
package proof
