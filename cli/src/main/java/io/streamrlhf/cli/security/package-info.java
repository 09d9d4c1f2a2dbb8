/**
 * The client properties file each component runs with on a secure cluster
 * ({@link io.streamrlhf.cli.security.ClientConfigFiles}); the principals and their ACLs are
 * {@link io.streamrlhf.schemas.security.ComponentAcls}.
 */
package io.streamrlhf.cli.security;
