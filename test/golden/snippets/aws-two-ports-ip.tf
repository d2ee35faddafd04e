# tsfw render --for aws: the ports Tailscale needs, from the required-ports profile
# WireGuard UDP port(s): 41641, 41642 (config)
# security groups are stateful: replies need no rule; egress matters only where the default allow-all egress rule was removed

variable "security_group_id" {
  type        = string
  description = "The security group of the Tailscale node"
}

resource "aws_vpc_security_group_ingress_rule" "tailscale_wireguard_in_41641_ipv4" {
  security_group_id = var.security_group_id
  description       = "tailscale wireguard-in[41641]: 41641/udp in"
  ip_protocol       = "udp"
  from_port         = 41641
  to_port           = 41641
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "tailscale_wireguard_in_41642_ipv4" {
  security_group_id = var.security_group_id
  description       = "tailscale wireguard-in[41642]: 41642/udp in"
  ip_protocol       = "udp"
  from_port         = 41642
  to_port           = 41642
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tailscale_wireguard_out_41641_ipv4" {
  security_group_id = var.security_group_id
  description       = "tailscale wireguard-out[41641]: from 41641/udp out (peers listen on any port; this firewall cannot match the source port)"
  ip_protocol       = "udp"
  from_port         = 0
  to_port           = 65535
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tailscale_wireguard_out_41642_ipv4" {
  security_group_id = var.security_group_id
  description       = "tailscale wireguard-out[41642]: from 41642/udp out (peers listen on any port; this firewall cannot match the source port)"
  ip_protocol       = "udp"
  from_port         = 0
  to_port           = 65535
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tailscale_stun_ipv4" {
  security_group_id = var.security_group_id
  description       = "tailscale stun: 3478/udp out"
  ip_protocol       = "udp"
  from_port         = 3478
  to_port           = 3478
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tailscale_https_ipv4" {
  security_group_id = var.security_group_id
  description       = "tailscale https: 443/tcp out"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "tailscale_http_ipv4" {
  security_group_id = var.security_group_id
  description       = "tailscale http: 80/tcp out"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}
