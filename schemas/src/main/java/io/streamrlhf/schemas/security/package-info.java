/**
 * What each StreamRLHF component may do on a secure cluster, derived from the topic catalog: its SCRAM principal, the
 * topics it reads and writes, its consumer groups and transactional ids, as Kafka ACLs
 * ({@link io.streamrlhf.schemas.security.ComponentAcls}). Here rather than beside the commands so that every module
 * that starts components (the command line, the demo's loop) grants and uses the same principals.
 */
package io.streamrlhf.schemas.security;
