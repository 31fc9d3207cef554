"""Which test shows that the gateway acts on each key of schema/gateway.schema.json (section f
of check.py: no configuration key is accepted and silently ignored).

ACTED_ON maps every schema key path (check.py's notation: `listeners[]` for array elements,
`upstreams.NAME` for an upstream) to one or more "Tests/<Target>/<File>.swift:<function>"
references: each a test function whose outcome depends on the key's value, through the
gateway, or through the component that consumes the decoded config struct (RouteConfig,
HealthCheckConfig, CircuitBreakerConfig). A test that sets the key to its default, or that
would pass just the same with the default, does not count. "$schema" alone maps to "ignored".

DECODE_ONLY lists the keys for which no such test exists yet (their ACTED_ON entry names the
decode test, and the nearest test there is): check.py prints them as notes, not failures.
Remove a key from DECODE_ONLY once its behaviour test is listed in ACTED_ON. (Empty now: the
last ones are covered by Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift.)
"""

ACTED_ON = {
    "$schema": "ignored",
    "workers": [
        "Tests/GatewayRuntimeTests/ListenerExclusivityTests.swift:secondGatewayOnTheSameAddressFailsToStart",
        "Tests/GatewayRuntimeTests/StatsEndpointTests.swift:statsCountEveryRequestExactly",
    ],
    # listeners
    "listeners": [
        "Tests/GatewayRuntimeTests/ReloadTests.swift:opensAddedListenersAndClosesRemovedOnes",
    ],
    "listeners[].address": [
        "Tests/GatewayRuntimeTests/ListenerExclusivityTests.swift:secondGatewayOnTheSameAddressFailsToStart",
        "Tests/GatewayRuntimeTests/CommandLineTests.swift:unbindableListenerExitsOne",
    ],
    "listeners[].name": [
        "Tests/GatewayRuntimeTests/ReloadTests.swift:opensAddedListenersAndClosesRemovedOnes",
        "Tests/GatewayRuntimeTests/ListenerExclusivityTests.swift:reloadAddingAListenerOnAHeldAddressIsRefused",
    ],
    "listeners[].trustedProxies": [
        "Tests/GatewayRuntimeTests/AccessLogTests.swift:writesOneJSONLinePerRequestWithEveryField",
        "Tests/GatewayRuntimeTests/AccessLogTests.swift:trustedProxyKeepsForwardedProto",
    ],
    # admin
    "admin": [
        "Tests/GatewayRuntimeTests/AdminTests.swift:probesAnswerWithoutToken",
    ],
    "admin.address": [
        "Tests/GatewayRuntimeTests/ListenerExclusivityTests.swift:adminAddressHeldByAnotherSocketMakesStartFail",
        "Tests/GatewayRuntimeTests/CommandLineTests.swift:checkDiffShowsWhatAReloadWouldChange",
    ],
    "admin.token": [
        "Tests/GatewayRuntimeTests/AdminTests.swift:protectedEndpointsNeedTheBearerToken",
    ],
    # limits
    "limits": [
        "Tests/GatewayRuntimeTests/ConnectionLimitTests.swift:connectionsBeyondTheLimitAreClosedAndCounted",
    ],
    "limits.maxConnections": [
        "Tests/GatewayRuntimeTests/ConnectionLimitTests.swift:connectionsBeyondTheLimitAreClosedAndCounted",
    ],
    "limits.maxRequestHeaderBytes": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:requestHeadsOverTheSetLimitAreRefused",
    ],
    "limits.maxRequestBodyBytes": [
        "Tests/GatewayRuntimeTests/GatewayErrorTests.swift:oversizedBodyIsPayloadTooLarge",
        "Tests/GatewayRuntimeTests/CommandLineTests.swift:streams100MiBBodyWithBoundedMemory",
    ],
    "limits.maxResponseHeaderBytes": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:upstreamHeadsOverTheSetLimitAre502BadResponse",
    ],
    # timeouts
    "timeouts": [
        "Tests/GatewayRuntimeTests/GatewayErrorTests.swift:incompleteHeaderIsRequestTimeout",
    ],
    "timeouts.requestHeaderMs": [
        "Tests/GatewayRuntimeTests/GatewayErrorTests.swift:incompleteHeaderIsRequestTimeout",
    ],
    "timeouts.idleMs": [
        "Tests/GatewayRuntimeTests/GatewayErrorTests.swift:idleKeepAliveConnectionIsClosed",
        "Tests/GatewayRuntimeTests/ConnectionLimitTests.swift:slowRequestBodyIsCutOffWithRequestTimeout",
        "Tests/GatewayRuntimeTests/WebSocketTunnelTests.swift:aQuietTunnelClosesAfterIdleMs",
    ],
    "timeouts.drainMs": [
        "Tests/GatewayRuntimeTests/DrainTests.swift:drainLimitForcesTheExit",
    ],
    # accessLog
    "accessLog": [
        "Tests/GatewayRuntimeTests/AccessLogTests.swift:writesOneJSONLinePerRequestWithEveryField",
    ],
    "accessLog.path": [
        "Tests/GatewayRuntimeTests/AccessLogTests.swift:writesOneJSONLinePerRequestWithEveryField",
    ],
    # upstreams
    "upstreams": [
        "Tests/GatewayRuntimeTests/UpstreamPoolTests.swift:failedConnectLeavesNothingForTheNextRequest",
    ],
    "upstreams.NAME.servers": [
        "Tests/GatewayRuntimeTests/ReloadTests.swift:keepsPooledConnectionsAndServerStateOfKeptServers",
        "Tests/GatewayRuntimeTests/BalancingTests.swift:consistentHashSendsEachHeaderValueToOneUpstream",
    ],
    "upstreams.NAME.servers[].address": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:forwardsRequestWithProxyHeadersAndRewrite",
        "Tests/GatewayRuntimeTests/GatewayErrorTests.swift:refusedConnectionIsConnectFailed",
    ],
    "upstreams.NAME.servers[].weight": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:roundRobinSharesFollowTheWeightsExactly",
        "Tests/GatewayTests/BalancerTests.swift:givesEachServerItsWeightShare",
    ],
    "upstreams.NAME.balance": [
        "Tests/GatewayRuntimeTests/BalancingTests.swift:leastRequestSendsMoreToTheFasterUpstream",
        "Tests/GatewayRuntimeTests/BalancingTests.swift:consistentHashSendsEachHeaderValueToOneUpstream",
    ],
    "upstreams.NAME.hashOn": [
        "Tests/GatewayRuntimeTests/BalancingTests.swift:consistentHashSendsEachHeaderValueToOneUpstream",
    ],
    "upstreams.NAME.connectTimeoutMs": [
        "Tests/GatewayRuntimeTests/ConnectTimeoutTests.swift:connectTimeoutEndsTheConnectAtTheSetLimit",
    ],
    "upstreams.NAME.pool": [
        "Tests/GatewayRuntimeTests/PoolLimitTests.swift:aRequestBeyondTheLimitWaitsAndTakesTheFreedConnection",
    ],
    "upstreams.NAME.pool.maxConnectionsPerServer": [
        "Tests/GatewayRuntimeTests/PoolLimitTests.swift:aRequestBeyondTheLimitWaitsAndTakesTheFreedConnection",
        "Tests/GatewayRuntimeTests/PoolLimitTests.swift:theLimitHoldsAcrossWorkers",
    ],
    "upstreams.NAME.pool.maxIdlePerServer": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:idleConnectionsBeyondTheCapAreClosed",
    ],
    "upstreams.NAME.pool.idleTimeoutMs": [
        "Tests/GatewayRuntimeTests/UpstreamPoolTests.swift:idleConnectionClosesAfterItsIdleTimeout",
    ],
    "upstreams.NAME.pool.maxPending": [
        "Tests/GatewayRuntimeTests/PoolLimitTests.swift:beyondMaxPendingRequestsGet503UpstreamOverloaded",
    ],
    "upstreams.NAME.healthCheck": [
        "Tests/GatewayRuntimeTests/HealthCheckTests.swift:aFailingServerIsTakenOutAndPutBackWhenItRecovers",
        "Tests/GatewayRuntimeTests/HealthCheckTests.swift:healthCarriesOverAReloadAndChecksStopWhenRemoved",
    ],
    "upstreams.NAME.healthCheck.path": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:healthChecksProbeTheSetPath",
    ],
    "upstreams.NAME.healthCheck.intervalMs": [
        "Tests/GatewayRuntimeTests/HealthCheckTests.swift:aFailingServerIsTakenOutAndPutBackWhenItRecovers",
    ],
    "upstreams.NAME.healthCheck.timeoutMs": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:aProbeSlowerThanTheSetTimeoutFails",
    ],
    # Unit level: HealthState with a HealthCheckConfig.
    "upstreams.NAME.healthCheck.unhealthyThreshold": [
        "Tests/GatewayTests/HealthStateTests.swift:flipsOnlyAfterAFullRunOfResults",
        "Tests/GatewayTests/HealthStateTests.swift:thresholdsOfOneFlipOnEveryContraryResult",
    ],
    "upstreams.NAME.healthCheck.healthyThreshold": [
        "Tests/GatewayTests/HealthStateTests.swift:flipsOnlyAfterAFullRunOfResults",
        "Tests/GatewayTests/HealthStateTests.swift:thresholdsOfOneFlipOnEveryContraryResult",
    ],
    "upstreams.NAME.circuitBreaker": [
        "Tests/GatewayRuntimeTests/CircuitBreakerIntegrationTests.swift:aFailingServerIsTakenOutThenGetsATrialAfterOpenMs",
    ],
    "upstreams.NAME.circuitBreaker.failureThreshold": [
        "Tests/GatewayRuntimeTests/CircuitBreakerIntegrationTests.swift:aFailingServerIsTakenOutThenGetsATrialAfterOpenMs",
        "Tests/GatewayRuntimeTests/CircuitBreakerIntegrationTests.swift:aSuccessfulTrialClosesTheCircuit",
    ],
    "upstreams.NAME.circuitBreaker.openMs": [
        "Tests/GatewayRuntimeTests/CircuitBreakerIntegrationTests.swift:aFailingServerIsTakenOutThenGetsATrialAfterOpenMs",
        "Tests/GatewayRuntimeTests/CircuitBreakerIntegrationTests.swift:aSuccessfulTrialClosesTheCircuit",
    ],
    # Unit level: CircuitBreaker with a CircuitBreakerConfig.
    "upstreams.NAME.circuitBreaker.halfOpenMaxRequests": [
        "Tests/GatewayTests/CircuitBreakerTests.swift:neverHasMoreTrialsInFlightThanTheLimit",
        "Tests/GatewayTests/CircuitBreakerTests.swift:admitsExactlyTheLimitOfTrialsWhenAllThreadsAskAtOnce",
    ],
    # routes
    "routes": [
        "Tests/GatewayRuntimeTests/GatewayErrorTests.swift:unknownPathIsNoRoute",
    ],
    "routes[].name": [
        "Tests/GatewayRuntimeTests/StatsEndpointTests.swift:statsCountEveryRequestExactly",
        "Tests/GatewayRuntimeTests/RateLimitIntegrationTests.swift:everyResponseCarriesTheRateLimitFields",
    ],
    "routes[].match": [
        "Tests/GatewayRuntimeTests/GatewayErrorTests.swift:unknownPathIsNoRoute",
    ],
    # Unit level: RouteTable with RouteConfigs.
    "routes[].match.host": [
        "Tests/GatewayTests/RouteTableTests.swift:picksTheRouteBySpecPrecedence",
        "Tests/GatewayTests/RouteTableTests.swift:fallsBackFromAHostTierWhoseRoutesDoNotMatch",
    ],
    "routes[].match.path": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:pipelinedRequestsBehindGatewayAnswersAreServed",
        "Tests/GatewayTests/RouteTableTests.swift:picksTheRouteBySpecPrecedence",
    ],
    "routes[].match.pathPrefix": [
        "Tests/GatewayRuntimeTests/GatewayErrorTests.swift:unknownPathIsNoRoute",
    ],
    # Unit level: RouteTable with RouteConfigs.
    "routes[].match.methods": [
        "Tests/GatewayTests/RouteTableTests.swift:picksTheRouteBySpecPrecedence",
        "Tests/GatewayTests/RouteTableTests.swift:returnsNilWhenNothingMatches",
    ],
    # Unit level: RouteTable with RouteConfigs.
    "routes[].match.headers": [
        "Tests/GatewayTests/RouteTableTests.swift:matchesHeaderConditionsCaseInsensitivelyByName",
    ],
    "routes[].upstream": [
        "Tests/GatewayRuntimeTests/UpstreamPoolTests.swift:failedConnectLeavesNothingForTheNextRequest",
    ],
    "routes[].prefixRewrite": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:forwardsRequestWithProxyHeadersAndRewrite",
        "Tests/GatewayRuntimeTests/RedirectRewriteTests.swift:forwardsTheRewrittenPathAndMapsBothFields",
    ],
    "routes[].hostRewrite": [
        "Tests/GatewayRuntimeTests/RedirectRewriteTests.swift:mapsTheUpstreamsLocationBackToTheRoute",
    ],
    "routes[].redirectRewrite": [
        "Tests/GatewayRuntimeTests/RedirectRewriteTests.swift:mapsTheUpstreamsLocationBackToTheRoute",
    ],
    "routes[].timeoutMs": [
        "Tests/GatewayRuntimeTests/GatewayErrorTests.swift:slowUpstreamHitsRouteDeadline",
    ],
    # retries
    "routes[].retries": [
        "Tests/GatewayRuntimeTests/RetryTests.swift:aRetriedStatusThatRunsOutIsPassedThroughAsIs",
    ],
    "routes[].retries.maxRetries": [
        "Tests/GatewayRuntimeTests/StatsEndpointTests.swift:connectFailuresCountAsAttemptsAndFailures",
        "Tests/GatewayRuntimeTests/CircuitBreakerIntegrationTests.swift:theBreakerCountsConnectFailures",
    ],
    "routes[].retries.retryOn": [
        "Tests/GatewayRuntimeTests/RetryTests.swift:aRetriedStatusThatRunsOutIsPassedThroughAsIs",
        "Tests/GatewayRuntimeTests/RetryTests.swift:retryAfterIsHonouredWhenItFitsTheDeadline",
    ],
    "routes[].retries.retriableStatusCodes": [
        "Tests/GatewayRuntimeTests/CircuitBreakerIntegrationTests.swift:retried429sDoNotOpenTheCircuit",
    ],
    "routes[].retries.perTryTimeoutMs": [
        "Tests/GatewayRuntimeTests/AttemptDeadlineTests.swift:perTryTimeoutEndsAnAttemptWithAGatewayTimeout",
        "Tests/GatewayRuntimeTests/AttemptDeadlineTests.swift:aPerTryLimitAloneStillTellsTheUpstream",
    ],
    "routes[].retries.backoff": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:backoffWaitsFollowBaseMsAndMaxMs",
    ],
    "routes[].retries.backoff.baseMs": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:backoffWaitsFollowBaseMsAndMaxMs",
    ],
    "routes[].retries.backoff.maxMs": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:backoffWaitsFollowBaseMsAndMaxMs",
    ],
    "routes[].retries.budgetPercent": [
        "Tests/GatewayRuntimeTests/CircuitBreakerIntegrationTests.swift:retried429sDoNotOpenTheCircuit",
        "Tests/GatewayRuntimeTests/RetryTests.swift:retriesStayWithinTheBudget",
    ],
    "routes[].retries.retryNonIdempotent": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:aResetPostIsRetriedOnlyWithRetryNonIdempotent",
        "Tests/GatewayTests/ExchangeStateMachineTests.swift:nonIdempotentRequestsAreRetriedOnlyWhenTheyCannotHaveArrived",
    ],
    # rateLimit
    "routes[].rateLimit": [
        "Tests/GatewayRuntimeTests/RateLimitIntegrationTests.swift:eachClientAddressHasItsOwnBucket",
        "Tests/GatewayRuntimeTests/RateLimitIntegrationTests.swift:directResponsesAreLimitedToo",
    ],
    "routes[].rateLimit.requestsPerSecond": [
        "Tests/GatewayRuntimeTests/RateLimitIntegrationTests.swift:everyResponseCarriesTheRateLimitFields",
        "Tests/GatewayRuntimeTests/RateLimitIntegrationTests.swift:aReloadKeepsTheBucketsOfAnUnchangedLimit",
    ],
    "routes[].rateLimit.burst": [
        "Tests/GatewayRuntimeTests/RateLimitIntegrationTests.swift:theBurstIsAdmittedExactlyAcrossWorkersThenRequestsGet429",
    ],
    "routes[].rateLimit.key": [
        "Tests/GatewayRuntimeTests/RateLimitIntegrationTests.swift:headerKeysAndRequestsWithoutTheHeaderShareOneBucket",
        "Tests/GatewayRuntimeTests/RateLimitIntegrationTests.swift:theBurstIsAdmittedExactlyAcrossWorkersThenRequestsGet429",
    ],
    "routes[].rateLimit.dryRun": [
        "Tests/GatewayRuntimeTests/RateLimitIntegrationTests.swift:aDryRunCountsButRefusesNothing",
    ],
    "routes[].rateLimit.scope": [
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:twoGatewaysShareOneLimit",
    ],
    "routes[].rateLimit.onBackendError": [
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:withRedisDownAClosedLimitAnswers503AndAnOpenOneAdmits",
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:withRedisDownALocalFallbackLimitsEachGatewayAtItsShare",
    ],
    # cluster
    "cluster": [
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:twoGatewaysShareOneLimit",
    ],
    "cluster.redis": [
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:aReloadToAnotherRedisUsesItsBuckets",
    ],
    "cluster.redis.address": [
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:aReloadToAnotherRedisUsesItsBuckets",
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:redisCanBeReachedOverAUnixSocket",
    ],
    "cluster.redis.password": [
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:thePasswordAndDatabaseAreUsed",
    ],
    "cluster.redis.db": [
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:thePasswordAndDatabaseAreUsed",
    ],
    "cluster.redis.timeoutMs": [
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:aHungRedisCostsAtMostTimeoutMs",
    ],
    "cluster.redis.replicasHint": [
        "Tests/GatewayRuntimeTests/ClusterRateLimitTests.swift:withRedisDownALocalFallbackLimitsEachGatewayAtItsShare",
    ],
    # header rules
    "routes[].requestHeaders": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:forwardsRequestWithProxyHeadersAndRewrite",
    ],
    "routes[].requestHeaders.set": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:forwardsRequestWithProxyHeadersAndRewrite",
        "Tests/GatewayRuntimeTests/ConnectionNamedFieldsTests.swift:namedFieldTheRouteSetsKeepsTheRouteValue",
    ],
    "routes[].requestHeaders.remove": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:forwardsRequestWithProxyHeadersAndRewrite",
    ],
    "routes[].responseHeaders": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:forwardsRequestWithProxyHeadersAndRewrite",
    ],
    "routes[].responseHeaders.set": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:forwardsRequestWithProxyHeadersAndRewrite",
        "Tests/GatewayRuntimeTests/ConnectionNamedFieldsTests.swift:namedFieldTheRouteSetsOnResponsesKeepsTheRouteValue",
    ],
    "routes[].responseHeaders.remove": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:responseFieldsTheRouteRemovesAreDropped",
    ],
    # directResponse
    "routes[].directResponse": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:directResponseRouteAnswersWithoutUpstream",
    ],
    "routes[].directResponse.status": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:directResponsesUseTheSetStatusAndContentType",
    ],
    "routes[].directResponse.body": [
        "Tests/GatewayRuntimeTests/ForwardingTests.swift:directResponseRouteAnswersWithoutUpstream",
        "Tests/GatewayRuntimeTests/AccessLogTests.swift:gatewayMadeResponsesLogTheirSizeTimeAndRequestLine",
    ],
    "routes[].directResponse.contentType": [
        "Tests/GatewayRuntimeTests/ConfigBehaviourTests.swift:directResponsesUseTheSetStatusAndContentType",
    ],
}

DECODE_ONLY = {}
