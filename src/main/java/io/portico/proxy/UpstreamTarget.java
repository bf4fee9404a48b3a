package io.portico.proxy;

import io.portico.ir.Endpoint;
import io.portico.ir.TlsCertificate;
import io.portico.ir.UpstreamTls;
import io.portico.proxy.lb.RoundRobin;

/**
 * Where one request goes: the endpoint picked first, the round robin its retries draw others
 * from, and how to speak to the backend port.
 *
 * @param endpoint the endpoint of the first attempt
 * @param endpoints the backend port's candidates (health-filtered) for retries
 * @param h2c whether the backend port speaks HTTP/2 ({@code appProtocol: kubernetes.io/h2c},
 *     or a GRPCRoute's backend): prior knowledge in cleartext, offered by ALPN under
 *     {@code tls}
 * @param tls the backend's usable BackendTLSPolicy setting, or null for cleartext
 * @param clientCertificate the certificate presented when {@code tls} is set (the Gateway's
 *     {@code tls.backend.clientCertificateRef}), or null for none
 */
record UpstreamTarget(Endpoint endpoint, RoundRobin endpoints, boolean h2c, UpstreamTls tls,
    TlsCertificate clientCertificate) {
}
