# tsfw render --for azure: the ports Tailscale needs, from the required-ports profile
# WireGuard UDP port(s): 41641 (fallback: not discovered)
# NSG rules are stateful; priorities from 1000 up, per direction (render with --priority to move them)

variable "resource_group_name" {
  type        = string
  description = "The resource group of the network security group"
}

variable "network_security_group_name" {
  type        = string
  description = "The network security group of the Tailscale node"
}

resource "azurerm_network_security_rule" "tailscale_wireguard_in_41641" {
  name                        = "tailscale-wireguard-in-41641"
  description                 = "tailscale wireguard-in[41641]: 41641/udp in"
  priority                    = 1000
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Udp"
  source_port_range           = "*"
  destination_port_range      = "41641"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
  resource_group_name         = var.resource_group_name
  network_security_group_name = var.network_security_group_name
}

resource "azurerm_network_security_rule" "tailscale_wireguard_out_41641" {
  name                        = "tailscale-wireguard-out-41641"
  description                 = "tailscale wireguard-out[41641]: from 41641/udp out"
  priority                    = 1000
  direction                   = "Outbound"
  access                      = "Allow"
  protocol                    = "Udp"
  source_port_range           = "41641"
  destination_port_range      = "*"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
  resource_group_name         = var.resource_group_name
  network_security_group_name = var.network_security_group_name
}

resource "azurerm_network_security_rule" "tailscale_stun" {
  name                        = "tailscale-stun"
  description                 = "tailscale stun: 3478/udp out"
  priority                    = 1001
  direction                   = "Outbound"
  access                      = "Allow"
  protocol                    = "Udp"
  source_port_range           = "*"
  destination_port_range      = "3478"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
  resource_group_name         = var.resource_group_name
  network_security_group_name = var.network_security_group_name
}

resource "azurerm_network_security_rule" "tailscale_https" {
  name                        = "tailscale-https"
  description                 = "tailscale https: 443/tcp out"
  priority                    = 1002
  direction                   = "Outbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "443"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
  resource_group_name         = var.resource_group_name
  network_security_group_name = var.network_security_group_name
}

resource "azurerm_network_security_rule" "tailscale_http" {
  name                        = "tailscale-http"
  description                 = "tailscale http: 80/tcp out"
  priority                    = 1003
  direction                   = "Outbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "80"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
  resource_group_name         = var.resource_group_name
  network_security_group_name = var.network_security_group_name
}
