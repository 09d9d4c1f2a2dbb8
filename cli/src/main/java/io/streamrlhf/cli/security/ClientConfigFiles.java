package io.streamrlhf.cli.security;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.embedded.ClusterSecurity;
import io.streamrlhf.embedded.PrivateFiles;
import io.streamrlhf.schemas.security.ComponentAcls;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * One client properties file per component of a secure cluster, each what {@code --config FILE} takes: where the
 * cluster and the registry are, the topic prefix, and the component's own SCRAM credentials and truststore.
 */
public final class ClientConfigFiles {

    private ClientConfigFiles() {
    }

    /**
     * Writes {@code DIR/<user>.properties} for every component and for {@code admin}, readable by their owner only.
     *
     * @return each file by user name ({@code worker}, ..., {@code admin}), in the order of
     *         {@link ComponentAcls.Component} then admin
     */
    public static Map<String, Path> write(Path dir, ClusterSecurity security, String bootstrap, String registryUrl,
                                          String topicPrefix) {
        Map<String, Path> files = new LinkedHashMap<>();
        try {
            Files.createDirectories(dir);
            for (String user : users()) {
                Properties props = new Properties();
                props.setProperty(CommonConfig.BOOTSTRAP_SERVERS, bootstrap);
                props.setProperty(CommonConfig.SCHEMA_REGISTRY_URL, registryUrl);
                props.setProperty(TopicsConfig.PREFIX, topicPrefix);
                security.clientProperties(user).forEach(props::setProperty);
                Path file = dir.resolve(user + ".properties");
                PrivateFiles.writeProperties(props, file, "StreamRLHF " + user + " on a secure cluster: rlhf ... --config "
                        + file);
                files.put(user, file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the client properties files in " + dir, e);
        }
        return files;
    }

    private static Iterable<String> users() {
        java.util.List<String> users = new java.util.ArrayList<>(ComponentAcls.Component.users());
        users.add(ClusterSecurity.ADMIN_USER);
        return users;
    }
}
