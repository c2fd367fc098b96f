package network

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/rt-lab/rt-lab/internal/usererr"
)

// MaxLinkName is the longest network interface name Linux accepts: IFNAMSIZ (16)
// less the terminating NUL. A longer name fails with EINVAL, and names cut to fit
// can collide, so rt-lab derives short names from hashes instead.
const MaxLinkName = 15

// LinkPrefix starts every link name this package derives, so tests and recovery
// can find rt-lab's links.
const LinkPrefix = "rt-"

// idLen is the length of the hex ids in link names: 32 bits of a SHA-256 hash.
const idLen = 8

// BridgeName derives the bridge name of the state folder root: "rt-br-" and 8
// hex digits of the SHA-256 of root, 14 bytes in all. Open passes the cleaned
// absolute path. Two state folders get different bridges unless their hashes
// collide in 32 bits.
func BridgeName(root string) string {
	return LinkPrefix + "br-" + hashHex(root)
}

// HostLinkName returns the host end of the veth pair of the container with id:
// "rt-v-" and the id, 13 bytes. The container end is created directly inside the
// container's network namespace as eth0, so it needs no host name.
func HostLinkName(id string) string {
	return LinkPrefix + "v-" + id
}

// linkID derives the id of container name in root, trying the hash of root, name
// and attempt. A caller that finds the id taken retries with the next attempt.
// Hashing the root too keeps ids of equal names in two state folders apart.
func linkID(root, name string, attempt int) string {
	return hashHex(root + "\x00" + name + "\x00" + strconv.Itoa(attempt))
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:idLen]
}

// ValidateLinkName accepts 1 to MaxLinkName bytes of a-z, A-Z, 0-9, '-', '_' and
// '.'. The kernel accepts more (any byte but '/', ':', NUL and white space), but
// these are the names that shells and other tools handle without quoting.
func ValidateLinkName(name string) error {
	if name == "" || len(name) > MaxLinkName || name == "." || name == ".." {
		return usererr.New(usererr.Usage, "ErrNetLinkName", "Name", name, "Max", MaxLinkName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.'
		if !ok {
			return usererr.New(usererr.Usage, "ErrNetLinkName", "Name", name, "Max", MaxLinkName)
		}
	}
	return nil
}
