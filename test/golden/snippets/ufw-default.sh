# tsfw render --for ufw: the ports Tailscale needs, from the required-ports profile
# WireGuard UDP port(s): 41641 (fallback: not discovered)
# outbound rules matter only with `ufw default deny outgoing`
# 41641/udp in: peers reach the WireGuard UDP port directly when NAT traversal succeeds
ufw allow in proto udp to any port 41641 comment 'tailscale wireguard-in[41641]'
# from 41641/udp out: WireGuard sends from its own UDP port to peers and DERP anywhere
ufw allow out proto udp from any port 41641 to any comment 'tailscale wireguard-out[41641]'
# 3478/udp out: STUN to DERP servers finds the public address for NAT traversal
ufw allow out proto udp to any port 3478 comment 'tailscale stun'
# 443/tcp out: the coordination server and DERP relays speak HTTPS
ufw allow out proto tcp to any port 443 comment 'tailscale https'
# 80/tcp out: captive-portal detection and DERP fall back to plain HTTP
ufw allow out proto tcp to any port 80 comment 'tailscale http'
