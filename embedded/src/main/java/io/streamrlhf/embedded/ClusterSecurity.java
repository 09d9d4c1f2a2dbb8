package io.streamrlhf.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * What makes an embedded cluster secure: a certificate authority and the broker's TLS certificate, SCRAM-SHA-512
 * users, and the broker and client settings that use them.
 *
 * <p>The brokers' client listener is {@code SASL_SSL} with SCRAM-SHA-512 (clients and, between brokers, the
 * {@value #BROKER_USER} user); the controller listener is {@code SSL} with client certificates required, so only a
 * holder of the broker certificate (principal {@code User:broker}) can talk to the quorum. Authorization is Kafka's
 * {@code StandardAuthorizer}: nothing is allowed without an ACL, except to the super users {@value #ADMIN_USER} and
 * {@value #BROKER_USER}. The ACLs themselves are the caller's (they depend on the topic catalog).
 *
 * <p>Made at first start in a directory and read back from it on later starts (the users' SCRAM credentials are
 * written into the storage when it is formatted, so the passwords must stay the same):
 *
 * <pre>
 * DIR/truststore.p12   the CA certificate (what every client trusts)
 * DIR/broker.p12       the broker's key and certificate (CN=broker), signed by the CA
 * DIR/users.properties user=password for every SCRAM user, and the stores' password ({@value #STORE_PASSWORD_KEY})
 * </pre>
 *
 * <p>The broker certificate's subject alternative names are {@code localhost}, {@code 127.0.0.1} and the hosts the
 * cluster was made for ({@link #createOrLoad(Path, Collection, List)}: DNS names or IP addresses under which clients
 * on other machines reach it); the first of those hosts is the one the brokers advertise. A start with other hosts
 * than the certificate names is refused, and {@link #renewCertificate} makes a new CA and certificate for them.
 *
 * <p>The CA's private key is never written: the broker certificate (valid {@value #VALIDITY_DAYS} days) is the only
 * one it signs. Every file is readable by its owner only.
 */
public final class ClusterSecurity {

    /** The super user the components' administration (topics, ACLs) runs as. */
    public static final String ADMIN_USER = "admin";
    /** The brokers' own user: inter-broker SCRAM and the controller listener's client certificate. */
    public static final String BROKER_USER = "broker";
    /** The SASL mechanism of the client listener. */
    public static final String SASL_MECHANISM = "SCRAM-SHA-512";
    /** The client listener's name (and security protocol). */
    public static final String SECURE_LISTENER = "SASL_SSL";

    static final String STORE_PASSWORD_KEY = "_stores";
    static final int VALIDITY_DAYS = 3650;
    private static final String TRUSTSTORE = "truststore.p12";
    private static final String BROKER_STORE = "broker.p12";
    private static final String USERS = "users.properties";
    /** What every broker certificate names, so that clients on the brokers' machine always verify it. */
    static final List<String> LOCAL_NAMES = List.of("localhost", "127.0.0.1");
    private static final Pattern DNS_NAME = Pattern.compile(
            "(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    private static final Pattern IPV4 = Pattern.compile("[0-9.]+");

    private final Path dir;
    private final String storePassword;
    private final Map<String, String> passwords;
    private final List<String> hosts;
    private final boolean createdNow;
    private final boolean renewedNow;

    private ClusterSecurity(Path dir, String storePassword, Map<String, String> passwords, List<String> hosts,
                            boolean createdNow, boolean renewedNow) {
        this.dir = dir;
        this.storePassword = storePassword;
        this.passwords = Map.copyOf(passwords);
        this.hosts = List.copyOf(hosts);
        this.createdNow = createdNow;
        this.renewedNow = renewedNow;
    }

    /**
     * Reads the security material in {@code dir}, or makes it there when the directory has none: a new CA, broker
     * certificate and a random password for every user of {@code users} (plus {@value #ADMIN_USER} and
     * {@value #BROKER_USER}).
     *
     * @throws IllegalArgumentException when a user name is not {@code [a-z0-9-]+}, or {@code dir} holds material that
     *                                  lacks one of {@code users}
     */
    public static ClusterSecurity createOrLoad(Path dir, Collection<String> users) {
        return createOrLoad(dir, users, List.of());
    }

    /**
     * Reads the security material in {@code dir}, or makes it there when the directory has none, for a cluster that
     * clients also reach as {@code hosts} (DNS names or IP addresses, the first the one the brokers advertise; none
     * for a cluster on {@code localhost} only).
     *
     * @throws IllegalArgumentException when a user name is not {@code [a-z0-9-]+}, a host is neither a DNS name nor an
     *                                  IP address, {@code dir} holds material that lacks one of {@code users}, or
     *                                  its broker certificate names other hosts (the message says how to renew it)
     */
    public static ClusterSecurity createOrLoad(Path dir, Collection<String> users, List<String> hosts) {
        Set<String> all = allUsers(users);
        List<String> names = checkHosts(hosts);
        if (Files.isRegularFile(dir.resolve(USERS))) {
            ClusterSecurity loaded = load(dir, all, names);
            Set<String> certified = loaded.certificateNames();
            if (!certified.equals(subjectAltNames(names))) {
                throw new IllegalArgumentException("the broker certificate in " + dir + " was made for hosts "
                        + certified + ", and this start asks for " + subjectAltNames(names) + " (--host " + names
                        + " and the local names); start with the hosts it was made for, or renew the certificate "
                        + "(rlhf cluster up --renew-certificate: a new CA and broker certificate, the users and "
                        + "passwords kept; every client must then take the new truststore " + dir.resolve(TRUSTSTORE)
                        + ")");
            }
            return loaded;
        }
        return create(DataDirs.ensureDirectory(dir), all, names);
    }

    /**
     * Makes a new CA and broker certificate for {@code hosts} in {@code dir}, keeping the users and their passwords
     * (the brokers' storage was formatted with them), or makes all the material when {@code dir} has none. The old
     * CA's private key was never written, so the new certificate cannot be signed by it: every client must take the
     * new truststore.
     *
     * @throws IllegalArgumentException as {@link #createOrLoad(Path, Collection, List)} does, except for other hosts
     */
    public static ClusterSecurity renewCertificate(Path dir, Collection<String> users, List<String> hosts) {
        Set<String> all = allUsers(users);
        List<String> names = checkHosts(hosts);
        if (!Files.isRegularFile(dir.resolve(USERS))) {
            return create(DataDirs.ensureDirectory(dir), all, names);
        }
        ClusterSecurity loaded = load(dir, all, names);
        writeStores(dir, loaded.storePassword, names);
        return new ClusterSecurity(dir, loaded.storePassword, loaded.passwords, names, false, true);
    }

    private static Set<String> allUsers(Collection<String> users) {
        Set<String> all = new java.util.LinkedHashSet<>(List.of(ADMIN_USER, BROKER_USER));
        for (String user : users) {
            if (!user.matches("[a-z0-9-]+")) {
                throw new IllegalArgumentException("SCRAM user name must be [a-z0-9-]+, got '" + user + "'");
            }
            all.add(user);
        }
        return all;
    }

    /**
     * {@code hosts} checked and written as the certificate holds them (IP addresses in their canonical form), without
     * repeats.
     *
     * @throws IllegalArgumentException naming a host that is neither a DNS name nor an IP address
     */
    public static List<String> checkHosts(List<String> hosts) {
        Set<String> out = new java.util.LinkedHashSet<>();
        for (String host : hosts) {
            out.add(checkHost(host));
        }
        return List.copyOf(out);
    }

    private static String checkHost(String host) {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("a broker host must be a DNS name or an IP address, got '"
                    + (host == null ? "" : host) + "'");
        }
        if (IPV4.matcher(host).matches() || host.contains(":")) {
            try {
                if (IPV4.matcher(host).matches() && !isIpv4(host)) {
                    throw new java.net.UnknownHostException(host);
                }
                // An address literal (checked above for IPv4, by the JDK for IPv6): no name lookup happens.
                return java.net.InetAddress.getByName(host).getHostAddress();
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException("broker host '" + host + "' is not a valid IP address (a.b.c.d "
                        + "or an IPv6 address)", e);
            }
        }
        if (host.length() > 253 || !DNS_NAME.matcher(host).matches()) {
            throw new IllegalArgumentException("broker host '" + host + "' is neither a DNS name (letters, digits, "
                    + "'-' and '.', no wildcards) nor an IP address");
        }
        return host.toLowerCase(java.util.Locale.ROOT);
    }

    private static boolean isIpv4(String host) {
        String[] parts = host.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    /** The certificate's subject alternative names for {@code hosts}: the hosts, then the local names. */
    private static Set<String> subjectAltNames(List<String> hosts) {
        Set<String> names = new java.util.LinkedHashSet<>(hosts);
        names.addAll(LOCAL_NAMES);
        return names;
    }

    /** The directory holding the stores and passwords. */
    public Path dir() {
        return dir;
    }

    /** Whether {@link #createOrLoad} made the material now (false when it was read back). */
    public boolean createdNow() {
        return createdNow;
    }

    /** Whether {@link #renewCertificate} made a new CA and broker certificate for existing users now. */
    public boolean renewedNow() {
        return renewedNow;
    }

    /** The hosts this cluster is reached as besides {@code localhost}, in the order given; empty for local only. */
    public List<String> hosts() {
        return hosts;
    }

    /** The host the brokers advertise to clients: the first of {@link #hosts()}, or {@code localhost}. */
    public String advertisedHost() {
        return hosts.isEmpty() ? "localhost" : hosts.get(0);
    }

    /**
     * The subject alternative names of the broker certificate in {@link #dir()}: the DNS names and IP addresses a
     * client may dial and still verify the broker.
     */
    public Set<String> certificateNames() {
        Path file = dir.resolve(BROKER_STORE);
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(in, storePassword.toCharArray());
            X509Certificate cert = (X509Certificate) keys.getCertificate(BROKER_USER);
            Set<String> names = new java.util.LinkedHashSet<>();
            if (cert != null && cert.getSubjectAlternativeNames() != null) {
                for (List<?> name : cert.getSubjectAlternativeNames()) {
                    Object value = name.get(1);
                    names.add(name.get(0).equals(GeneralName.iPAddress)
                            ? java.net.InetAddress.getByName(String.valueOf(value)).getHostAddress()
                            : String.valueOf(value).toLowerCase(java.util.Locale.ROOT));
                }
            }
            return names;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("could not read the broker certificate in " + file + ": " + e, e);
        }
    }

    /** Every SCRAM user, {@value #ADMIN_USER} and {@value #BROKER_USER} included, sorted. */
    public Set<String> users() {
        return new TreeMap<>(passwords).keySet();
    }

    /** The PKCS#12 truststore holding the CA certificate. */
    public Path truststore() {
        return dir.resolve(TRUSTSTORE);
    }

    /**
     * Kafka client settings that authenticate as {@code user} over TLS: {@code security.protocol},
     * {@code sasl.mechanism}, {@code sasl.jaas.config} and the truststore.
     *
     * @throws IllegalArgumentException for a user this material does not have
     */
    public Map<String, String> clientProperties(String user) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("security.protocol", SECURE_LISTENER);
        props.put("sasl.mechanism", SASL_MECHANISM);
        props.put("sasl.jaas.config", jaas(user, password(user)));
        props.put("ssl.truststore.type", "PKCS12");
        props.put("ssl.truststore.location", truststore().toAbsolutePath().toString());
        props.put("ssl.truststore.password", storePassword);
        return props;
    }

    /** {@code SCRAM-SHA-512=[name=USER,password=PASSWORD]} for every user, for formatting new storage. */
    List<String> scramArguments() {
        List<String> args = new ArrayList<>();
        new TreeMap<>(passwords).forEach((user, password) ->
                args.add(SASL_MECHANISM + "=[name=" + user + ",password=" + password + "]"));
        return args;
    }

    /**
     * Broker settings: TLS key and trust stores, SCRAM on the client listener (also between brokers), client
     * certificates on the controller listener mapped to their CN, and the StandardAuthorizer with its super users.
     */
    Map<String, String> brokerProperties(String controllerListener) {
        String keystore = dir.resolve(BROKER_STORE).toAbsolutePath().toString();
        Map<String, String> props = new LinkedHashMap<>();
        props.put("ssl.keystore.type", "PKCS12");
        props.put("ssl.keystore.location", keystore);
        props.put("ssl.keystore.password", storePassword);
        props.put("ssl.key.password", storePassword);
        props.put("ssl.truststore.type", "PKCS12");
        props.put("ssl.truststore.location", truststore().toAbsolutePath().toString());
        props.put("ssl.truststore.password", storePassword);
        props.put("sasl.enabled.mechanisms", SASL_MECHANISM);
        props.put("sasl.mechanism.inter.broker.protocol", SASL_MECHANISM);
        props.put("listener.name." + SECURE_LISTENER.toLowerCase(java.util.Locale.ROOT) + "."
                + SASL_MECHANISM.toLowerCase(java.util.Locale.ROOT) + ".sasl.jaas.config",
                jaas(BROKER_USER, password(BROKER_USER)));
        props.put("listener.name." + controllerListener.toLowerCase(java.util.Locale.ROOT) + ".ssl.client.auth",
                "required");
        // A certificate's "CN=broker" becomes User:broker, the same principal as the SCRAM user.
        props.put("ssl.principal.mapping.rules", "RULE:^CN=([a-z0-9-]+)$/$1/,DEFAULT");
        props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        props.put("super.users", "User:" + ADMIN_USER + ";User:" + BROKER_USER);
        props.put("allow.everyone.if.no.acl.found", "false");
        return props;
    }

    private String password(String user) {
        String password = passwords.get(user);
        if (password == null) {
            throw new IllegalArgumentException("no SCRAM user '" + user + "' in " + dir.resolve(USERS) + "; users: "
                    + users());
        }
        return password;
    }

    private static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    private static ClusterSecurity load(Path dir, Set<String> users, List<String> hosts) {
        Properties props = new Properties();
        Path file = dir.resolve(USERS);
        try (InputStream in = Files.newInputStream(file)) {
            props.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + file, e);
        }
        String storePassword = props.getProperty(STORE_PASSWORD_KEY);
        Map<String, String> passwords = new LinkedHashMap<>();
        for (String name : props.stringPropertyNames()) {
            if (!name.equals(STORE_PASSWORD_KEY)) {
                passwords.put(name, props.getProperty(name));
            }
        }
        List<String> missing = users.stream().filter(u -> !passwords.containsKey(u)).toList();
        if (storePassword == null || !missing.isEmpty()
                || !Files.isRegularFile(dir.resolve(TRUSTSTORE)) || !Files.isRegularFile(dir.resolve(BROKER_STORE))) {
            throw new IllegalArgumentException("security material in " + dir + " is incomplete (missing users "
                    + missing + ", or " + TRUSTSTORE + ", " + BROKER_STORE + " or the store password); the cluster's "
                    + "storage was formatted with its users, so start on a new data directory to change them");
        }
        return new ClusterSecurity(dir, storePassword, passwords, hosts, false, false);
    }

    private static ClusterSecurity create(Path dir, Set<String> users, List<String> hosts) {
        SecureRandom random = new SecureRandom();
        String storePassword = randomSecret(random);
        Map<String, String> passwords = new LinkedHashMap<>();
        users.forEach(u -> passwords.put(u, randomSecret(random)));
        writeStores(dir, storePassword, hosts);
        Properties props = new Properties();
        props.setProperty(STORE_PASSWORD_KEY, storePassword);
        passwords.forEach(props::setProperty);
        writePrivate(dir.resolve(USERS), out -> props.store(out, "SCRAM-SHA-512 users of the embedded cluster"));
        return new ClusterSecurity(dir, storePassword, passwords, hosts, true, false);
    }

    /** A new CA and a broker certificate it signs for {@code hosts} and the local names, in the two stores. */
    private static void writeStores(Path dir, String storePassword, List<String> hosts) {
        SecureRandom random = new SecureRandom();
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(256, random);
            KeyPair ca = generator.generateKeyPair();
            X509Certificate caCert = certificate("CN=StreamRLHF embedded CA", ca.getPublic(),
                    "CN=StreamRLHF embedded CA", ca.getPrivate(), ca.getPublic(), null, random);
            KeyPair broker = generator.generateKeyPair();
            X509Certificate brokerCert = certificate("CN=" + BROKER_USER, broker.getPublic(),
                    "CN=StreamRLHF embedded CA", ca.getPrivate(), ca.getPublic(), subjectAltNames(hosts), random);

            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", caCert);
            store(trust, dir.resolve(TRUSTSTORE), storePassword);

            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry(BROKER_USER, broker.getPrivate(), storePassword.toCharArray(),
                    new Certificate[] {brokerCert, caCert});
            store(keys, dir.resolve(BROKER_STORE), storePassword);
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new EmbeddedStartException("could not make the cluster's CA and certificates in " + dir + ": " + e, e);
        }
    }

    /** A CA certificate when {@code altNames} is null, else a server certificate for those names. */
    private static X509Certificate certificate(String subject, PublicKey subjectKey, String issuer,
                                               PrivateKey issuerKey, PublicKey issuerPublic,
                                               Collection<String> altNames, SecureRandom random)
            throws GeneralSecurityException, OperatorCreationException, IOException {
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(new X500Name(issuer),
                new BigInteger(64, random).abs().add(BigInteger.ONE), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(VALIDITY_DAYS))), new X500Name(subject), subjectKey);
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        boolean ca = altNames == null;
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        builder.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
        builder.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuerPublic));
        if (ca) {
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            // Clients check the host name they dialled (ssl.endpoint.identification.algorithm=https).
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(altNames.stream()
                    .map(n -> new GeneralName(isAddress(n) ? GeneralName.iPAddress : GeneralName.dNSName, n))
                    .toArray(GeneralName[]::new)));
        }
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

    /** Whether {@code host}, as {@link #checkHosts} wrote it, is an IP address. */
    private static boolean isAddress(String host) {
        return IPV4.matcher(host).matches() || host.contains(":");
    }

    private static void store(KeyStore store, Path file, String password) {
        writePrivate(file, out -> {
            try {
                store.store(out, password.toCharArray());
            } catch (GeneralSecurityException e) {
                throw new IOException(e);
            }
        });
    }

    private interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** Writes {@code file} readable by its owner only (where the file system has POSIX permissions). */
    private static void writePrivate(Path file, Writer writer) {
        try {
            PrivateFiles.create(file);
            try (OutputStream out = Files.newOutputStream(file)) {
                writer.write(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + file, e);
        }
    }

    private static String randomSecret(SecureRandom random) {
        byte[] bytes = new byte[18];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
