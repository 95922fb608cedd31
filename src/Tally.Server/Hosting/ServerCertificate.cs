using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tally.Server.Hosting;

/// <summary>
/// The TLS certificate of every <c>https://</c> listen URL, read from PEM files named by <c>TALLY_TLS_CERT</c>
/// (the certificate, then any intermediates: a "full chain" file) and <c>TALLY_TLS_KEY</c> (its private key,
/// unencrypted PKCS#8, PKCS#1 or SEC1 PEM).
/// </summary>
internal sealed class ServerCertificate
{
    /// <summary>Configuration key (and environment variable) of the certificate's PEM file.</summary>
    public const string CertKey = "TALLY_TLS_CERT";

    /// <summary>Configuration key (and environment variable) of the private key's PEM file.</summary>
    public const string KeyKey = "TALLY_TLS_KEY";

    private ServerCertificate(X509Certificate2 certificate, X509Certificate2Collection chain)
    {
        Certificate = certificate;
        Chain = chain;
    }

    /// <summary>The server's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The intermediates that followed it in the certificate file, sent with it in the handshake.</summary>
    public X509Certificate2Collection Chain { get; }

    /// <summary>
    /// Null when neither setting is set. Throws <see cref="InvalidOperationException"/> naming the setting when
    /// only one is set, a file cannot be read or holds no certificate, or the key is not the certificate's.
    /// The messages name files, never their contents.
    /// </summary>
    public static ServerCertificate? Load(IConfiguration configuration)
    {
        var certPath = configuration[CertKey];
        var keyPath = configuration[KeyKey];
        if (string.IsNullOrWhiteSpace(certPath) && string.IsNullOrWhiteSpace(keyPath))
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(keyPath))
        {
            throw new InvalidOperationException($"{KeyKey} is not set: {CertKey} names a certificate, and TLS needs its private key as well (set both, or neither).");
        }

        if (string.IsNullOrWhiteSpace(certPath))
        {
            throw new InvalidOperationException($"{CertKey} is not set: {KeyKey} names a private key, and TLS needs its certificate as well (set both, or neither).");
        }

        var certPem = Read(CertKey, certPath);
        var keyPem = Read(KeyKey, keyPath);
        var all = new X509Certificate2Collection();
        try
        {
            all.ImportFromPem(certPem); // every CERTIFICATE block; other blocks are skipped
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"{CertKey}: \"{certPath}\" holds a PEM certificate that cannot be read ({ex.Message}).", ex);
        }

        if (all.Count == 0)
        {
            throw new InvalidOperationException($"{CertKey}: \"{certPath}\" holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block).");
        }

        X509Certificate2 certificate;
        try
        {
            // The first certificate of the file is the server's (the order of a full-chain file).
            certificate = X509Certificate2.CreateFromPem(certPem, keyPem);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            // The framework's messages name no key material ("The provided key does not match the public key for this
            // certificate.", "The key contents do not contain a PEM, the content is malformed, or the key does not match
            // the certificate.").
            throw new InvalidOperationException(
                $"{KeyKey}: \"{keyPath}\" is not an unencrypted PEM private key of the certificate in {CertKey} (\"{certPath}\"): {ex.Message}", ex);
        }

        if (OperatingSystem.IsWindows())
        {
            // SChannel cannot use the ephemeral key CreateFromPem makes; a PKCS#12 round trip gives it one it can.
            // OpenSSL (Linux) and macOS use the key as it is.
            using var ephemeral = certificate;
            certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), password: null);
        }

        var chain = new X509Certificate2Collection();
        for (var i = 1; i < all.Count; i++)
        {
            chain.Add(all[i]);
        }

        all[0].Dispose(); // the same certificate as `certificate`, without the key
        return new ServerCertificate(certificate, chain);
    }

    private static string Read(string key, string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new InvalidOperationException($"{key}: cannot read \"{path}\" ({ex.Message}).", ex);
        }
    }
}
