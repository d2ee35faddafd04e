# tsfw render --for firewalld: the ports Tailscale needs, from the required-ports profile
# WireGuard UDP port(s): 41641 (fallback: not discovered)
# inbound ports go to the default zone (render with --zone for the zone of your WAN interfaces)
# the outbound policy matters only where another policy rejects output (firewalld 0.9 or later)
# 41641/udp in: peers reach the WireGuard UDP port directly when NAT traversal succeeds
firewall-cmd --permanent --add-port=41641/udp
# outbound: policy tailscale-out from the host itself to every zone
firewall-cmd --permanent --new-policy=tailscale-out
firewall-cmd --permanent --policy=tailscale-out --add-ingress-zone=HOST
firewall-cmd --permanent --policy=tailscale-out --add-egress-zone=ANY
# from 41641/udp out: WireGuard sends from its own UDP port to peers and DERP anywhere
firewall-cmd --permanent --policy=tailscale-out --add-source-port=41641/udp
# 3478/udp out: STUN to DERP servers finds the public address for NAT traversal
firewall-cmd --permanent --policy=tailscale-out --add-port=3478/udp
# 443/tcp out: the coordination server and DERP relays speak HTTPS
firewall-cmd --permanent --policy=tailscale-out --add-port=443/tcp
# 80/tcp out: captive-portal detection and DERP fall back to plain HTTP
firewall-cmd --permanent --policy=tailscale-out --add-port=80/tcp
# load the permanent configuration into the runtime
firewall-cmd --reload
