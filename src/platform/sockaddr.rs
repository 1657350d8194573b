//! Socket addresses, decoded for hooks and filters.

/// A decoded socket address.
#[derive(Debug, PartialEq)]
pub struct Address {
    pub family: &'static str,
    pub host: String,
    pub port: Option<u16>,
}

/// Decodes the sockaddr at `ptr` (inet, inet6, unix); None for a null
/// pointer or another family.
///
/// # Safety
/// `ptr` is null or points to a socket address of the size its family says.
pub unsafe fn decode(ptr: usize) -> Option<Address> {
    if ptr == 0 {
        return None;
    }
    let sa = ptr as *const libc::sockaddr;
    match (*sa).sa_family as i32 {
        libc::AF_INET => {
            let sin = &*(sa as *const libc::sockaddr_in);
            let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(Address { family: "inet", host: ip.to_string(), port: Some(u16::from_be(sin.sin_port)) })
        }
        libc::AF_INET6 => {
            let sin6 = &*(sa as *const libc::sockaddr_in6);
            let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(Address { family: "inet6", host: ip.to_string(), port: Some(u16::from_be(sin6.sin6_port)) })
        }
        libc::AF_UNIX => {
            let sun = &*(sa as *const libc::sockaddr_un);
            let path: Vec<u8> = sun.sun_path.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect();
            Some(Address { family: "unix", host: String::from_utf8_lossy(&path).into_owned(), port: None })
        }
        _ => None,
    }
}

/// A socket address for `host` (an IPv4 or IPv6 literal) and `port`, as
/// the bytes of a sockaddr_in or sockaddr_in6.
pub fn encode(host: &str, port: u16) -> Option<Vec<u8>> {
    match host.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(ip) => {
            // SAFETY: a plain C struct, zeroed.
            let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sin.sin_family = libc::AF_INET as _;
            sin.sin_port = port.to_be();
            sin.sin_addr.s_addr = u32::from(ip).to_be();
            Some(bytes_of(&sin))
        }
        std::net::IpAddr::V6(ip) => {
            // SAFETY: a plain C struct, zeroed.
            let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sin6.sin6_family = libc::AF_INET6 as _;
            sin6.sin6_port = port.to_be();
            sin6.sin6_addr.s6_addr = ip.octets();
            Some(bytes_of(&sin6))
        }
    }
}

fn bytes_of<T>(v: &T) -> Vec<u8> {
    // SAFETY: reading the bytes of a plain C struct.
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>()) }.to_vec()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encoded_addresses_decode_back() {
        for (host, port) in [("127.0.0.1", 80u16), ("::ffff:127.0.0.1", 8080), ("::1", 1)] {
            let bytes = encode(host, port).unwrap();
            let a = unsafe { decode(bytes.as_ptr() as usize) }.unwrap();
            assert_eq!((a.host.as_str(), a.port), (host, Some(port)));
        }
        assert!(encode("example.com", 80).is_none());
    }

    use super::*;

    #[test]
    fn inet_addresses_decode_to_host_and_port() {
        let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        sin.sin_family = libc::AF_INET as _;
        sin.sin_port = 8080u16.to_be();
        sin.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::new(127, 0, 0, 2)).to_be();
        let a = unsafe { decode(&sin as *const _ as usize) }.unwrap();
        assert_eq!(a, Address { family: "inet", host: "127.0.0.2".into(), port: Some(8080) });
    }

    #[test]
    fn null_and_unknown_families_decode_to_none() {
        assert_eq!(unsafe { decode(0) }, None);
        let mut sa: libc::sockaddr = unsafe { std::mem::zeroed() };
        sa.sa_family = libc::AF_UNSPEC as _;
        assert_eq!(unsafe { decode(&sa as *const _ as usize) }, None);
    }
}
