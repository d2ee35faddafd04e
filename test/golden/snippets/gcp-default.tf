# tsfw render --for gcp: the ports Tailscale needs, from the required-ports profile
# WireGuard UDP port(s): 41641 (fallback: not discovered)
# VPC firewall rules are stateful; egress rules matter only where an egress deny rule exists

variable "network" {
  type        = string
  description = "The VPC network of the Tailscale node"
}

resource "google_compute_firewall" "tailscale_wireguard_in_41641_ipv4" {
  name          = "tailscale-wireguard-in-41641-ipv4"
  network       = var.network
  description   = "tailscale wireguard-in[41641]: 41641/udp in"
  direction     = "INGRESS"
  source_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "udp"
    ports    = ["41641"]
  }
}

resource "google_compute_firewall" "tailscale_wireguard_in_41641_ipv6" {
  name          = "tailscale-wireguard-in-41641-ipv6"
  network       = var.network
  description   = "tailscale wireguard-in[41641]: 41641/udp in"
  direction     = "INGRESS"
  source_ranges = ["::/0"]
  allow {
    protocol = "udp"
    ports    = ["41641"]
  }
}

resource "google_compute_firewall" "tailscale_wireguard_out_41641_ipv4" {
  name               = "tailscale-wireguard-out-41641-ipv4"
  network            = var.network
  description        = "tailscale wireguard-out[41641]: from 41641/udp out (peers listen on any port; this firewall cannot match the source port)"
  direction          = "EGRESS"
  destination_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "udp"
    ports    = ["0-65535"]
  }
}

resource "google_compute_firewall" "tailscale_wireguard_out_41641_ipv6" {
  name               = "tailscale-wireguard-out-41641-ipv6"
  network            = var.network
  description        = "tailscale wireguard-out[41641]: from 41641/udp out (peers listen on any port; this firewall cannot match the source port)"
  direction          = "EGRESS"
  destination_ranges = ["::/0"]
  allow {
    protocol = "udp"
    ports    = ["0-65535"]
  }
}

resource "google_compute_firewall" "tailscale_stun_ipv4" {
  name               = "tailscale-stun-ipv4"
  network            = var.network
  description        = "tailscale stun: 3478/udp out"
  direction          = "EGRESS"
  destination_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "udp"
    ports    = ["3478"]
  }
}

resource "google_compute_firewall" "tailscale_stun_ipv6" {
  name               = "tailscale-stun-ipv6"
  network            = var.network
  description        = "tailscale stun: 3478/udp out"
  direction          = "EGRESS"
  destination_ranges = ["::/0"]
  allow {
    protocol = "udp"
    ports    = ["3478"]
  }
}

resource "google_compute_firewall" "tailscale_https_ipv4" {
  name               = "tailscale-https-ipv4"
  network            = var.network
  description        = "tailscale https: 443/tcp out"
  direction          = "EGRESS"
  destination_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "tcp"
    ports    = ["443"]
  }
}

resource "google_compute_firewall" "tailscale_https_ipv6" {
  name               = "tailscale-https-ipv6"
  network            = var.network
  description        = "tailscale https: 443/tcp out"
  direction          = "EGRESS"
  destination_ranges = ["::/0"]
  allow {
    protocol = "tcp"
    ports    = ["443"]
  }
}

resource "google_compute_firewall" "tailscale_http_ipv4" {
  name               = "tailscale-http-ipv4"
  network            = var.network
  description        = "tailscale http: 80/tcp out"
  direction          = "EGRESS"
  destination_ranges = ["0.0.0.0/0"]
  allow {
    protocol = "tcp"
    ports    = ["80"]
  }
}

resource "google_compute_firewall" "tailscale_http_ipv6" {
  name               = "tailscale-http-ipv6"
  network            = var.network
  description        = "tailscale http: 80/tcp out"
  direction          = "EGRESS"
  destination_ranges = ["::/0"]
  allow {
    protocol = "tcp"
    ports    = ["80"]
  }
}
