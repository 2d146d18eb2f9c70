module libtemporal

go 1.26
