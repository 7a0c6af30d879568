# Opens a TUN and a listening control socket the way a supervisor would, then
# execs wgated with them as WG_TUN_FD and WG_UAPI_FD, in the foreground
# (WG_PROCESS_FOREGROUND=1). Usage: perl fdpass.pl IFNAME WGATED
use strict;
use warnings;
use Socket;

my ($ifname, $wgated) = @ARGV;
$^F = 100;    # keep these descriptors open across exec
open(my $tun, "+<", "/dev/net/tun") or die "open /dev/net/tun: $!";
ioctl($tun, 0x400454ca, pack("Z16 s", $ifname, 0x0001 | 0x1000))    # TUNSETIFF, IFF_TUN|IFF_NO_PI
  or die "TUNSETIFF: $!";
mkdir "/var/run/wireguard";
my $path = "/var/run/wireguard/$ifname.sock";
unlink $path;
socket(my $sock, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
bind($sock, pack_sockaddr_un($path)) or die "bind $path: $!";
listen($sock, 5) or die "listen: $!";
$ENV{WG_TUN_FD} = fileno($tun);
$ENV{WG_UAPI_FD} = fileno($sock);
$ENV{WG_PROCESS_FOREGROUND} = "1";
exec($wgated, $ifname) or die "exec $wgated: $!";
