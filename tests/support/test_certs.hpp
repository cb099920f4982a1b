#pragma once
// Certificates made at run time with the `openssl` command-line tool (nothing checked in):
// a test CA, a leaf for localhost + 127.0.0.1 signed by it, a leaf for another host name,
// a self-signed localhost certificate (an unknown CA), and a directory holding the CA under
// its `openssl rehash` name (for a client trusting a CA directory). Removed with the object.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace fh::test {

class TestCerts {
public:
  TestCerts() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/fh_certs_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      error_ = "mkdtemp failed";
      return;
    }
    dir_ = tmpl;
    std::ofstream(dir_ + "/fh.cnf") << R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[localhost]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[other]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.fh.test
)";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string cmds[] = {
        "openssl req -x509 -config fh.cnf -extensions ca" + ec +
            " -keyout ca.key -out ca.pem -days 2 -subj '/CN=fh test CA'",
        "openssl req -new -config fh.cnf" + ec + " -keyout server.key -out server.csr -subj '/CN=localhost'",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 2"
        " -extfile fh.cnf -extensions localhost -out server.pem",
        "openssl req -new -config fh.cnf" + ec + " -keyout other.key -out other.csr -subj '/CN=other.fh.test'",
        "openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 2"
        " -extfile fh.cnf -extensions other -out other.pem",
        "openssl req -x509 -config fh.cnf -extensions localhost" + ec +
            " -keyout self.key -out self.pem -days 2 -subj '/CN=localhost'",
        "mkdir cadir && cp ca.pem cadir/ && openssl rehash cadir",
    };
    for (const auto& c : cmds) {
      const std::string full = "cd '" + dir_ + "' && " + c + " >>openssl.log 2>&1";
      if (std::system(full.c_str()) != 0) {
        error_ = "failed: " + c;
        return;
      }
    }
  }
  ~TestCerts() {
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  const std::string& error() const { return error_; } // "" when every certificate was made
  std::string file(const char* name) const { return dir_ + "/" + name; }
  std::string ca() const { return file("ca.pem"); }
  std::string ca_dir() const { return file("cadir"); } // ca.pem plus its <hash>.0 link
  std::string localhost_cert() const { return file("server.pem"); }
  std::string localhost_key() const { return file("server.key"); }
  std::string other_cert() const { return file("other.pem"); }
  std::string other_key() const { return file("other.key"); }
  std::string self_signed_cert() const { return file("self.pem"); }
  std::string self_signed_key() const { return file("self.key"); }

private:
  std::string dir_;
  std::string error_;
};

} // namespace fh::test
