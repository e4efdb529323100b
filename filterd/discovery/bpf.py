"""A kernel packet filter for the capture socket: only ARP, DHCP and IPv6 neighbour discovery.

Without it every DNS query the box answers would also be copied into Python. The program is
classic BPF for Ethernet, compiled once with
`tcpdump -dd -y EN10MB 'arp or (ip and udp and (port 67 or port 68))
 or (icmp6 and ip6[40] >= 133 and ip6[40] <= 136)'` and kept here, so the appliance needs
neither tcpdump nor libpcap.
"""

from __future__ import annotations

import ctypes
import socket
import struct

SO_ATTACH_FILTER = getattr(socket, "SO_ATTACH_FILTER", 26)

PROGRAM: tuple[tuple[int, int, int, int], ...] = (
    (0x28, 0, 0, 0x0000000C),
    (0x15, 21, 0, 0x00000806),
    (0x15, 0, 11, 0x00000800),
    (0x30, 0, 0, 0x00000017),
    (0x15, 0, 19, 0x00000011),
    (0x28, 0, 0, 0x00000014),
    (0x45, 17, 0, 0x00001FFF),
    (0xB1, 0, 0, 0x0000000E),
    (0x48, 0, 0, 0x0000000E),
    (0x15, 13, 0, 0x00000043),
    (0x15, 12, 0, 0x00000044),
    (0x48, 0, 0, 0x00000010),
    (0x15, 10, 0, 0x00000043),
    (0x15, 9, 10, 0x00000044),
    (0x15, 0, 9, 0x000086DD),
    (0x30, 0, 0, 0x00000014),
    (0x15, 3, 0, 0x0000003A),
    (0x15, 0, 6, 0x0000002C),
    (0x30, 0, 0, 0x00000036),
    (0x15, 0, 4, 0x0000003A),
    (0x30, 0, 0, 0x00000036),
    (0x35, 0, 2, 0x00000085),
    (0x25, 1, 0, 0x00000088),
    (0x6, 0, 0, 0x00040000),
    (0x6, 0, 0, 0x00000000),
)


def attach_filter(sock: socket.socket) -> None:
    """Install PROGRAM on a packet socket (struct sock_fprog: length, pointer to the code)."""
    code = b"".join(struct.pack("HBBI", *instruction) for instruction in PROGRAM)
    buffer = ctypes.create_string_buffer(code)
    program = struct.pack("HL", len(PROGRAM), ctypes.addressof(buffer))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, program)
