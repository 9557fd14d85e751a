# ring MSG: how many MSG-byte buffers the sender (bench/bulksend.c) keeps
# in its ring: 4 MiB of them, 8 to 512, so that every size has the same
# bytes in flight. bench/net.sh and bench/xen.sh source this, so that Tern
# and Linux, on KVM and on Xen, send with the same ring.
ring() {
    r=$((4194304 / $1))
    [ $r -lt 8 ] && r=8
    [ $r -gt 512 ] && r=512
    echo $r
}
