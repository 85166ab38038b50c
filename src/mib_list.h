/*
 * Named counters, one X(name, "comment") per line.  Names follow the Linux
 * kernel's SNMP/MPTcpExt MIB where one exists.  Each module keeps its own
 * section; add new counters at the end of your section only.
 *
 * Included by mib.h with X defined; do not include directly.
 */
/* ---- wire / IP layer input ---- */
X(InReceives, "IP packets handed to the stack")
X(InHdrErrors, "IP header malformed (version, IHL, total length)")
X(InCsumErrors, "IPv4 header checksum wrong")
X(InTruncatedPkts, "IP packet shorter than its headers")
X(ReasmFails, "IP fragment received (fragments are not supported; dropped)")
X(InUnknownProtos, "IP packet with a protocol other than TCP")
X(InExtHdrErrors, "IPv6 extension header chain malformed or too long")
X(InAddrErrors, "IP destination is not one of our addresses")
/* ---- TCP input ---- */
X(TcpInSegs, "TCP segments received")
X(TcpOutSegs, "TCP segments sent")
X(TcpInErrs, "TCP segment malformed (header length, options)")
X(TcpInCsumErrors, "TCP checksum wrong")
X(TcpBadOptions, "TCP option malformed (length byte)")
X(TcpNoPort, "segment for no connection and no listener (RST sent)")
X(TcpOutRsts, "RST segments sent")
X(TcpActiveOpens, "connections opened actively (SYN sent)")
X(TcpPassiveOpens, "connections opened passively (SYN received)")
X(TcpAttemptFails, "connection attempts that failed")
X(TcpEstabResets, "established connections reset")
X(TcpRetransSegs, "segments retransmitted")
X(TCPTimeouts, "retransmission timer expirations")
X(TCPFastRetrans, "fast retransmits (RFC 5681 / RFC 6675)")
X(TCPSackRecovery, "loss recovery episodes entered with SACK")
X(TCPRenoRecovery, "loss recovery episodes entered without SACK")
X(TCPSACKReneging, "SACK reneging detected")
X(TCPChallengeACK, "challenge ACKs sent (RFC 5961)")
X(TCPSYNChallenge, "SYN in a synchronized state answered by a challenge ACK")
X(TCPRstNotInWindow, "RST outside the window, ignored (RFC 5961)")
X(TCPACKOutOfWindow, "ACK for data never sent, ignored (RFC 5961 §5)")
X(PAWSEstabRejected, "segments rejected by PAWS (RFC 7323 §5)")
X(TCPOFOQueue, "segments queued out of order")
X(TCPOFODrop, "out-of-order segments dropped: receive buffer full")
X(TCPRcvQDrop, "segments dropped: outside the receive window")
X(TCPDelayedACKs, "delayed ACK timer expirations")
X(TCPPureAcks, "pure ACKs received")
X(TCPDupAcks, "duplicate ACKs received")
X(TCPKeepAliveProbes, "keep-alive probes sent")
X(TCPKeepAliveTimeouts, "connections dropped by keep-alive")
X(TCPWinProbe, "zero-window probes sent (persist timer)")
X(TCPAbortOnData, "connection aborted with unread data / data after close")
X(TCPTimeWaitReuse, "SYN accepted for a TIME-WAIT connection")
X(TCPSynRetrans, "SYN/SYN-ACK retransmissions")
X(TCPListenOverflows, "SYNs dropped: accept backlog full")
X(TCPMemoryDrop, "segments dropped: allocation failed")
/* ---- simulator ---- */
X(SimDrops, "simulator: packets dropped by a link (loss, queue, outage)")
/* ---- MPTCP (kernel MPTcpExt names) ---- */
X(MPCapableSYNRX, "MP_CAPABLE SYN received")
X(MPTCPOptMalformed, "MPTCP option malformed")
