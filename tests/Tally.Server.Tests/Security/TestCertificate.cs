using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tally.Server.Hosting;

namespace Tally.Server.Tests.Security;

/// <summary>
/// A certificate for localhost made by the test (self-signed, or issued by a test CA), written as PEM files in a
/// temporary folder, and clients that trust exactly that certificate (its thumbprint), not any certificate.
/// </summary>
public sealed class TestCertificate : IDisposable
{
    private TestCertificate(string folder, X509Certificate2 certificate, X509Certificate2? issuer)
    {
        Folder = folder;
        Certificate = certificate;
        Issuer = issuer;
        CertPath = Path.Combine(folder, "cert.pem");
        KeyPath = Path.Combine(folder, "key.pem");
    }

    public string Folder { get; }

    /// <summary>The server's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The intermediate CA that issued it (itself issued by a root CA), when it is not self-signed.</summary>
    public X509Certificate2? Issuer { get; }

    public string CertPath { get; }

    public string KeyPath { get; }

    /// <summary>The settings that make the server use it.</summary>
    public Dictionary<string, string> Settings => new()
    {
        [ServerCertificate.CertKey] = CertPath,
        [ServerCertificate.KeyKey] = KeyPath,
    };

    /// <summary>
    /// A self-signed certificate for localhost; <paramref name="withIssuer"/> makes a root CA and an intermediate CA
    /// that issues the certificate, and puts the intermediate after the certificate in the file (a full chain; the
    /// root is the client's to have, and a server does not send it).
    /// </summary>
    public static TestCertificate Create(bool withIssuer = false)
    {
        var folder = Directory.CreateTempSubdirectory("tally-tls-").FullName;
        X509Certificate2? issuer = null;
        X509Certificate2 certificate;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = LeafRequest(key);
        var notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        var notAfter = DateTimeOffset.UtcNow.AddDays(7);
        if (withIssuer)
        {
            using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var root = CaRequest("CN=Tally Test Root CA", rootKey).CreateSelfSigned(notBefore.AddDays(-2), notAfter.AddDays(2));
            using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using (var intermediate = CaRequest("CN=Tally Test Intermediate CA", intermediateKey).Create(root, notBefore.AddDays(-1), notAfter.AddDays(1), RandomNumberGenerator.GetBytes(16)))
            {
                issuer = intermediate.CopyWithPrivateKey(intermediateKey);
            }

            using var issued = request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));
            certificate = issued.CopyWithPrivateKey(key);
        }
        else
        {
            certificate = request.CreateSelfSigned(notBefore, notAfter);
        }

        var made = new TestCertificate(folder, certificate, issuer);
        File.WriteAllText(made.CertPath, certificate.ExportCertificatePem() + "\n" + (issuer?.ExportCertificatePem() ?? string.Empty));
        File.WriteAllText(made.KeyPath, key.ExportPkcs8PrivateKeyPem());
        return made;
    }

    /// <summary>A handler whose TLS accepts this certificate alone, whatever its chain or name.</summary>
    public SocketsHttpHandler Handler(Action<X509Chain?>? onChain = null)
    {
        var expected = Certificate.GetCertHashString(HashAlgorithmName.SHA256);
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, chain, _) =>
                {
                    onChain?.Invoke(chain);
                    return presented is not null && string.Equals(presented.GetCertHashString(HashAlgorithmName.SHA256), expected, StringComparison.OrdinalIgnoreCase);
                },
            },
        };
    }

    /// <summary>A client of <paramref name="address"/> that trusts this certificate and speaks exactly <paramref name="version"/>.</summary>
    public HttpClient Client(Uri address, Version version, string? adminKey = null)
    {
        var client = new HttpClient(Handler())
        {
            BaseAddress = address,
            DefaultRequestVersion = version,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Infrastructure.TestServer.Timeout,
        };
        if (adminKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        }

        return client;
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Issuer?.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static CertificateRequest CaRequest(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request;
    }

    private static CertificateRequest LeafRequest(ECDsa key)
    {
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false)); // serverAuth
        return request;
    }
}
