// A typical corporate script: local names and the intranet go direct, one partner site goes
// through a second proxy, the rest through the main one.
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".intranet.example.com") ||
      isInNet(host, "10.0.0.0", "255.0.0.0") || localHostOrDomainIs(host, "printer.example.com"))
    return "DIRECT";
  if (shExpMatch(host, "*.partner.example.org") && dnsDomainLevels(host) >= 3)
    return "PROXY partner-proxy.example.com:8080; DIRECT";
  if (url.substring(0, 6) == "https:")
    return "PROXY proxy.example.com:3128; PROXY backup.example.com:3128";
  return "PROXY proxy.example.com:8080";
}
