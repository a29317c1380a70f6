export interface paths {
    "/v1/caller": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * gRPC /accord.registry.v1.Registry/GetCaller
         * @description Who the caller is, as the registry authenticated it: the principal, its roles, the teams
         *     it approves for and the permissions those give. Clients (the review console) use it to
         *     offer only the actions the caller may take; the server still decides each call.
         */
        get: operations["Registry_GetCaller"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/auditEvents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** gRPC /accord.registry.v1.Registry/ListAuditEvents */
        get: operations["Registry_ListAuditEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** gRPC /accord.registry.v1.Registry/ListDefinitions */
        get: operations["Registry_ListDefinitions"];
        put?: never;
        /** gRPC /accord.registry.v1.Registry/CreateDefinition */
        post: operations["Registry_CreateDefinition"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** gRPC /accord.registry.v1.Registry/GetDefinition */
        get: operations["Registry_GetDefinition"];
        put?: never;
        post?: never;
        /**
         * gRPC /accord.registry.v1.Registry/DeleteDefinition
         * @description Soft delete (AIP-164): withdrawn from consumers; refused while a published definition
         *     references it.
         */
        delete: operations["Registry_DeleteDefinition"];
        options?: never;
        head?: never;
        /**
         * gRPC /accord.registry.v1.Registry/UpdateDefinition
         * @description Edits the draft. The definition's etag must match when given.
         */
        patch: operations["Registry_UpdateDefinition"];
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}/revisions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** gRPC /accord.registry.v1.Registry/ListRevisions */
        get: operations["Registry_ListRevisions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}/revisions/{revision}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * gRPC /accord.registry.v1.Registry/GetRevision
         * @description name: .../revisions/{n}, .../revisions/published or .../revisions/latest.
         */
        get: operations["Registry_GetRevision"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}/revisions/{revision}:approve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.registry.v1.Registry/ApproveRevision */
        post: operations["Registry_ApproveRevision"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}/revisions/{revision}:publish": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * gRPC /accord.registry.v1.Registry/PublishRevision
         * @description Publishes an APPROVED revision; the previously published one becomes SUPERSEDED.
         */
        post: operations["Registry_PublishRevision"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}/revisions/{revision}:reject": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.registry.v1.Registry/RejectRevision */
        post: operations["Registry_RejectRevision"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}:diff": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * gRPC /accord.registry.v1.Registry/DiffDefinition
         * @description The semantic diff of two versions of a definition (its draft, its published revision, or
         *     any revision), item by item in business terms, each change tagged with its effect on
         *     qualification. `accordctl diff` and the review console both show it.
         */
        get: operations["Registry_DiffDefinition"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}:propose": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * gRPC /accord.registry.v1.Registry/ProposeRevision
         * @description Freezes the draft into a PROPOSED revision.
         */
        post: operations["Registry_ProposeRevision"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}:rollback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * gRPC /accord.registry.v1.Registry/RollbackDefinition
         * @description Creates and publishes a new revision with the content of an earlier published one.
         */
        post: operations["Registry_RollbackDefinition"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions/{definition}:undelete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.registry.v1.Registry/UndeleteDefinition */
        post: operations["Registry_UndeleteDefinition"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/definitions:watch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * gRPC /accord.registry.v1.Registry/WatchDefinitions
         * @description The published state of a namespace ("namespaces/-" for all), then every publish and
         *     delete in sequence order, one message per committed transaction.
         */
        get: operations["Registry_WatchDefinitions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/qualityReport": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * gRPC /accord.registry.v1.Registry/GetQualityReport
         * @description Which levels, grades, personas, rules and content bring leads sales accepts: each rate with
         *     its 95 % Wilson interval and sample size, each rule with its lift.
         */
        get: operations["Registry_GetQualityReport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/verdicts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * gRPC /accord.registry.v1.Registry/ListVerdicts
         * @description A namespace's verdicts in a time range, in the order they were recorded; with lead_id, one
         *     lead's history (accepted, then won...).
         */
        get: operations["Registry_ListVerdicts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/namespaces/{namespace}/verdicts:eraseLead": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * gRPC /accord.registry.v1.Registry/EraseLeadVerdicts
         * @description Erases every verdict of a lead id and its counts (a GDPR request): admin only, audited.
         */
        post: operations["Registry_EraseLeadVerdicts"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring/shadow/{namespace}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * gRPC /accord.scoring.v1.Scoring/GetShadowReport
         * @description Shadow scoring: how a proposed qualification model would have scored a sample of this
         *     replica's live traffic beside the published one (levels and grades, published x proposed),
         *     for the namespaces the service shadows (--shadow_namespaces). Responses are never changed.
         */
        get: operations["Scoring_GetShadowReport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:batchScoreAccounts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.scoring.v1.Scoring/BatchScoreAccounts */
        post: operations["Scoring_BatchScoreAccounts"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:batchScoreLeads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.scoring.v1.Scoring/BatchScoreLeads */
        post: operations["Scoring_BatchScoreLeads"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:checkTransition": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.scoring.v1.Scoring/CheckTransition */
        post: operations["Scoring_CheckTransition"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:evaluateJourney": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.scoring.v1.Scoring/EvaluateJourney */
        post: operations["Scoring_EvaluateJourney"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:evaluateSla": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.scoring.v1.Scoring/EvaluateSla */
        post: operations["Scoring_EvaluateSla"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:explainScoreChange": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * gRPC /accord.scoring.v1.Scoring/ExplainScoreChange
         * @description Splits the change of a lead's (or account's) score between two moments into the
         *     definition change, the data change and the passage of time, reason by reason.
         */
        post: operations["Scoring_ExplainScoreChange"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:matchPersona": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.scoring.v1.Scoring/MatchPersona */
        post: operations["Scoring_MatchPersona"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:previewDefinition": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.scoring.v1.Scoring/PreviewDefinition */
        post: operations["Scoring_PreviewDefinition"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:recordVerdicts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * gRPC /accord.scoring.v1.Scoring/RecordVerdicts
         * @description Records sales' verdicts on handed-over leads. Each lead snapshot is re-scored at its
         *     hand-off time with the pinned revisions, so what was scored (level, grade, persona, the
         *     rules that fired, the content that scored) is Accord's, never the caller's; reason codes
         *     are checked against the journey's taxonomy. All of the batch is recorded, or none of it.
         */
        post: operations["Scoring_RecordVerdicts"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:scoreAccount": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * gRPC /accord.scoring.v1.Scoring/ScoreAccount
         * @description Account-level qualification with the published account model: account fit, the members'
         *     combined engagement, buying-group coverage and level, member by member.
         */
        post: operations["Scoring_ScoreAccount"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scoring:scoreLead": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** gRPC /accord.scoring.v1.Scoring/ScoreLead */
        post: operations["Scoring_ScoreLead"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description `accepted` of `total` leads, with the 95 % Wilson score interval [low, high]. */
        "accord.registry.v1.AcceptanceRate": {
            /** Format: int64 */
            accepted?: string;
            high?: number;
            /** @description the level, grade, persona, rule or content key counted */
            key?: string;
            low?: number;
            rate?: number;
            /** Format: int64 */
            total?: string;
        };
        /** @description Levels are ordered; the account's level is the last whose thresholds all hold. */
        "accord.registry.v1.AccountLevel": {
            /** @description in [0, 1]: the weighted share of the buying roles covered */
            minCoverage?: number;
            minEngagement?: number;
            minFit?: number;
            /** @description REQUIRED, unique ("MQA") */
            name?: string;
        };
        /** @description Account-level qualification: the account's own fit, its members' combined engagement and the
         *     coverage of its buying group (docs/definitions.md, "AccountModel"). */
        "accord.registry.v1.AccountModel": {
            buyingGroup?: components["schemas"]["accord.registry.v1.BuyingRole"][];
            consent?: components["schemas"]["accord.registry.v1.ConsentRule"];
            engagement?: components["schemas"]["accord.registry.v1.MemberAggregation"];
            /** @description account fit: attribute conditions on the account's attributes */
            fit?: components["schemas"]["accord.registry.v1.FitGroup"][];
            levels?: components["schemas"]["accord.registry.v1.AccountLevel"][];
            /** @description REQUIRED: the qualification model that scores the members */
            model?: string;
        };
        /** @description The teams whose approval a revision needs. Default: marketing and sales. A revision that
         *     would weaken the currently published policy needs the published policy's teams as well. */
        "accord.registry.v1.ApprovalPolicy": {
            requiredTeams?: string[];
        };
        /** @description Tests one lead attribute. A missing attribute makes every operator false except
         *     NOT_EXISTS; a list-valued attribute satisfies the test when any element does. */
        "accord.registry.v1.AttributeCondition": {
            /** @description REQUIRED. Dotted path into the lead's attributes: "company.employees". */
            field?: string;
            /** @description string comparisons only */
            ignoreCase?: boolean;
            /**
             * @description REQUIRED.
             * @enum {string}
             */
            op?: "OPERATOR_UNSPECIFIED" | "EQ" | "NE" | "IN" | "NOT_IN" | "LT" | "LE" | "GT" | "GE" | "BETWEEN" | "CONTAINS" | "STARTS_WITH" | "ENDS_WITH" | "MATCHES" | "EXISTS" | "NOT_EXISTS";
            /** @description EQ NE LT LE GT GE CONTAINS STARTS_WITH ... */
            value?: unknown;
            /** @description IN NOT_IN (1..1000), BETWEEN (exactly 2) */
            values?: unknown[];
        };
        "accord.registry.v1.AttributeField": {
            description?: string;
            /** @description REQUIRED, dotted (e.g. "company.employees"), unique in the dictionary */
            path?: string;
            /** @enum {string} */
            type?: "TYPE_UNSPECIFIED" | "STRING" | "NUMBER" | "BOOL" | "LIST" | "STRUCT";
        };
        "accord.registry.v1.AuditEvent": {
            /** @description the method: "CreateDefinition", "ApproveRevision", ... */
            action?: string;
            afterHash?: string;
            /** @description "sha256:..." of the resource before the change ("" if none) */
            beforeHash?: string;
            /** @description comment, team, change summary */
            detail?: string;
            namespace?: string;
            principal?: string;
            requestId?: string;
            /** @description definition or revision name */
            resource?: string;
            /** Format: int64 */
            sequence?: string;
            /** Format: date-time */
            time?: string;
        };
        "accord.registry.v1.BuyerJourney": {
            /** @description qualification model used by `score` conditions (id or name) */
            model?: string;
            reasonTaxonomy?: components["schemas"]["accord.registry.v1.ReasonCode"][];
            recycle?: components["schemas"]["accord.registry.v1.RecycleEdge"][];
            /** @description REQUIRED, ordered, at least one */
            stages?: components["schemas"]["accord.registry.v1.JourneyStage"][];
        };
        "accord.registry.v1.BuyerPersona": {
            /** @description REQUIRED, at least one */
            criteria?: components["schemas"]["accord.registry.v1.PersonaCriterion"][];
            /** @description a negative persona (students, competitors) */
            exclude?: boolean;
            goals?: string[];
            /** @description in [0, 1], default 0.5 */
            minMatch?: number;
            objections?: string[];
            painPoints?: string[];
            preferredChannels?: string[];
            summary?: string;
        };
        /** @description A role a complete buying group needs. A member covers it when it matches `persona` (its best
         *     persona) or its `attribute` has one of `values`, and its level reaches `min_level`. */
        "accord.registry.v1.BuyingRole": {
            /** @description a lead attribute path ("contact.role") ... */
            attribute?: string;
            /** @description REQUIRED, unique within the model */
            id?: string;
            /** @description a level of the model the member must reach; empty: any level */
            minLevel?: string;
            /** @description a persona id or name; or: */
            persona?: string;
            /** @description ... with one of these values (1..100) */
            values?: unknown[];
            /** @description > 0; 0 means 1 */
            weight?: number;
        };
        "accord.registry.v1.Caller": {
            /** @description the teams whose approval this caller may give */
            approverTeams?: string[];
            /** @description What the roles allow: "read", "watch", "edit", "review", "publish", "manage", "score",
             *     "record_verdicts", "store_verdicts", "erase". */
            permissions?: string[];
            principal?: string;
            /** @description "marketing_editor", "sales_approver", ... */
            roles?: string[];
        };
        "accord.registry.v1.ChangeBatch": {
            /** @description one committed transaction */
            events?: components["schemas"]["accord.registry.v1.WatchEvent"][];
        };
        /** @description A node of the condition tree. Exactly one of the fields is set: `all`, `any` (non-empty
         *     lists), `not`, or one leaf. */
        "accord.registry.v1.Condition": {
            all?: components["schemas"]["accord.registry.v1.Condition"][];
            any?: components["schemas"]["accord.registry.v1.Condition"][];
            attribute?: components["schemas"]["accord.registry.v1.AttributeCondition"];
            event?: components["schemas"]["accord.registry.v1.EventCondition"];
            not?: components["schemas"]["accord.registry.v1.Condition"];
            persona?: components["schemas"]["accord.registry.v1.PersonaCondition"];
            /** @description journeys and SLAs only */
            score?: components["schemas"]["accord.registry.v1.ScoreCondition"];
        };
        /** @description Members whose `attribute` is not one of `allowed` (or is missing) do not allow profiling:
         *     they are excluded and counted, never scored. */
        "accord.registry.v1.ConsentRule": {
            /** @description REQUIRED: 1..100 values */
            allowed?: unknown[];
            /** @description REQUIRED when the rule is set: a lead attribute path */
            attribute?: string;
        };
        "accord.registry.v1.Decay": {
            /** @description LINEAR, in (0, 1] */
            fraction?: number;
            /**
             * @description EXPONENTIAL, > 0
             * @example 3.5s
             */
            halfLife?: string;
            /** @enum {string} */
            kind?: "KIND_UNSPECIFIED" | "NONE" | "EXPONENTIAL" | "LINEAR";
            /**
             * @description LINEAR, > 0
             * @example 3.5s
             */
            period?: string;
        };
        /** @description A definition: metadata, the approval policy and a typed body. The definition resource holds
         *     the mutable draft; revisions hold immutable snapshots of it. */
        "accord.registry.v1.Definition": {
            accountModel?: components["schemas"]["accord.registry.v1.AccountModel"];
            approvalPolicy?: components["schemas"]["accord.registry.v1.ApprovalPolicy"];
            buyerJourney?: components["schemas"]["accord.registry.v1.BuyerJourney"];
            buyerPersona?: components["schemas"]["accord.registry.v1.BuyerPersona"];
            /**
             * Format: date-time
             * @description OUTPUT_ONLY
             */
            createTime?: string;
            /**
             * Format: date-time
             * @description OUTPUT_ONLY
             */
            deleteTime?: string;
            description?: string;
            displayName?: string;
            /** @description OUTPUT_ONLY, draft differs from latest revision */
            draftChanged?: boolean;
            /** @description AIP-154: send back on update to detect concurrent changes */
            etag?: string;
            /**
             * @description OUTPUT_ONLY, derived from the body
             * @enum {string}
             */
            kind?: "DEFINITION_KIND_UNSPECIFIED" | "BUYER_PERSONA" | "QUALIFICATION_MODEL" | "BUYER_JOURNEY" | "SERVICE_LEVEL_AGREEMENT" | "ACCOUNT_MODEL";
            labels?: {
                [key: string]: string;
            };
            /**
             * Format: int64
             * @description OUTPUT_ONLY, 0 = never proposed
             */
            latestRevision?: string;
            /** @description namespaces/{namespace}/definitions/{definition}; set from parent + definition_id on create. */
            name?: string;
            /**
             * Format: int64
             * @description OUTPUT_ONLY, a PROPOSED or APPROVED revision or 0
             */
            pendingRevision?: string;
            /**
             * Format: int64
             * @description OUTPUT_ONLY, 0 = never published
             */
            publishedRevision?: string;
            qualificationModel?: components["schemas"]["accord.registry.v1.QualificationModel"];
            /**
             * Format: int64
             * @description OUTPUT_ONLY, store sequence of the last change
             */
            sequence?: string;
            serviceLevelAgreement?: components["schemas"]["accord.registry.v1.ServiceLevelAgreement"];
            /**
             * @description OUTPUT_ONLY
             * @enum {string}
             */
            state?: "STATE_UNSPECIFIED" | "ACTIVE" | "DELETED";
            /** @description OUTPUT_ONLY */
            uid?: string;
            /**
             * Format: date-time
             * @description OUTPUT_ONLY
             */
            updateTime?: string;
        };
        "accord.registry.v1.Definition.LabelsEntry": {
            key?: string;
            value?: string;
        };
        "accord.registry.v1.DefinitionChange": {
            /** @description the new value in words ("" when REMOVED) */
            after?: string;
            /** @description the old value in words ("" when ADDED) */
            before?: string;
            /** @enum {string} */
            effect?: "EFFECT_UNSPECIFIED" | "NEUTRAL" | "TIGHTENS" | "LOOSENS" | "UNDECIDED";
            /** @enum {string} */
            kind?: "KIND_UNSPECIFIED" | "ADDED" | "REMOVED" | "CHANGED";
            /** @description The item, by ids rather than indexes: "qualification_model.engagement[intent].rules
             *     [pricing-visit].points", "buyer_journey.recycle[sql->engaged]". */
            path?: string;
            /** @description one sentence: "rule pricing-visit: 10 -> 15 points" */
            summary?: string;
        };
        "accord.registry.v1.DefinitionDiff": {
            /** @description in document order */
            changes?: components["schemas"]["accord.registry.v1.DefinitionChange"][];
            /** @description what was compared: "revision 3", "draft", "(none)" */
            from?: string;
            /**
             * Format: int64
             * @description 0 for the draft or a missing side
             */
            fromRevision?: string;
            name?: string;
            to?: string;
            /** Format: int64 */
            toRevision?: string;
        };
        "accord.registry.v1.DeleteDefinitionRequest": {
            etag?: string;
            /** @description REQUIRED */
            name?: string;
            requestId?: string;
        };
        "accord.registry.v1.DiffDefinitionRequest": {
            /** @description Each side: "published" (the published revision), "latest" (the latest revision), "draft"
             *     (the definition's current draft) or a revision number. Defaults: from = "published",
             *     to = "draft". A side that does not exist yet (never published) is empty: everything in
             *     the other side is ADDED. */
            from?: string;
            /** @description REQUIRED: the definition */
            name?: string;
            to?: string;
        };
        "accord.registry.v1.Disqualifier": {
            /** @description REQUIRED */
            condition?: components["schemas"]["accord.registry.v1.Condition"];
            /** @description REQUIRED */
            id?: string;
            /** @description REQUIRED, shown to sales */
            reason?: string;
        };
        "accord.registry.v1.EngagementGroup": {
            maxPoints?: number;
            minPoints?: number;
            /** @description REQUIRED, unique within the model */
            name?: string;
            rules?: components["schemas"]["accord.registry.v1.EngagementRule"][];
        };
        "accord.registry.v1.EngagementRule": {
            decay?: components["schemas"]["accord.registry.v1.Decay"];
            description?: string;
            /** @description REQUIRED */
            eventType?: string;
            /** @description REQUIRED, unique within the model */
            id?: string;
            /**
             * Format: int32
             * @description count only the N most recent; 0 = all
             */
            maxEvents?: number;
            /** @description cap on this rule's sum */
            maxPoints?: number;
            /** @description per counted event, may be negative */
            points?: number;
            /** @description tests on the event's properties */
            where?: components["schemas"]["accord.registry.v1.AttributeCondition"][];
            /**
             * @description ignore events older than this; unset = all
             * @example 3.5s
             */
            window?: string;
        };
        "accord.registry.v1.EraseLeadVerdictsRequest": {
            /** @description REQUIRED */
            leadId?: string;
            /** @description REQUIRED: namespaces/{namespace} */
            parent?: string;
            requestId?: string;
        };
        "accord.registry.v1.EraseLeadVerdictsResponse": {
            /**
             * Format: int64
             * @description verdicts erased
             */
            erased?: string;
        };
        /** @description Holds when the lead has at least min_count events of `type` (whose properties satisfy
         *     every `where` test) within `window` before as_of. */
        "accord.registry.v1.EventCondition": {
            /**
             * Format: int32
             * @description default 1
             */
            minCount?: number;
            /** @description REQUIRED. */
            type?: string;
            where?: components["schemas"]["accord.registry.v1.AttributeCondition"][];
            /**
             * @description unset = all time
             * @example 3.5s
             */
            window?: string;
        };
        "accord.registry.v1.FitGroup": {
            /** @description cap on the group's sum */
            maxPoints?: number;
            /** @description floor on the group's sum */
            minPoints?: number;
            /** @description REQUIRED, unique within the model */
            name?: string;
            rules?: components["schemas"]["accord.registry.v1.FitRule"][];
        };
        "accord.registry.v1.FitRule": {
            /** @description REQUIRED */
            condition?: components["schemas"]["accord.registry.v1.Condition"];
            description?: string;
            /** @description REQUIRED, unique within the model */
            id?: string;
            /** @description may be negative */
            points?: number;
        };
        "accord.registry.v1.GetCallerRequest": Record<string, never>;
        "accord.registry.v1.GetDefinitionRequest": {
            /** @description REQUIRED */
            name?: string;
        };
        "accord.registry.v1.GetQualityReportRequest": {
            /**
             * Format: date-time
             * @description default: now
             */
            endTime?: string;
            /** @description REQUIRED: namespaces/{namespace} */
            parent?: string;
            /**
             * Format: date-time
             * @description The leads whose latest verdict was recorded in [start_time, end_time), in whole days (UTC).
             */
            startTime?: string;
        };
        "accord.registry.v1.GetRevisionRequest": {
            /** @description REQUIRED */
            name?: string;
        };
        /** @description Bands are ordered; the first whose min <= score applies. */
        "accord.registry.v1.GradeBand": {
            /** @description REQUIRED, unique within its list */
            label?: string;
            min?: number;
        };
        "accord.registry.v1.JourneyStage": {
            displayName?: string;
            /** @description unset = always holds (the first stage) */
            entry?: components["schemas"]["accord.registry.v1.Condition"];
            /** @description REQUIRED, unique within the journey */
            id?: string;
            /**
             * @description time a lead may stay before it is stalled
             * @example 3.5s
             */
            maxDuration?: string;
            /** @description "marketing" or "sales" */
            ownerTeam?: string;
        };
        "accord.registry.v1.ListAuditEventsRequest": {
            /** Format: int32 */
            pageSize?: number;
            pageToken?: string;
            /** @description REQUIRED: namespaces/{namespace} or namespaces/- */
            parent?: string;
            /** @description only events of this definition (and its revisions) */
            resource?: string;
        };
        "accord.registry.v1.ListAuditEventsResponse": {
            /** @description newest first */
            events?: components["schemas"]["accord.registry.v1.AuditEvent"][];
            nextPageToken?: string;
        };
        "accord.registry.v1.ListDefinitionsRequest": {
            /** @description Conjunction of terms joined by AND: kind = BUYER_PERSONA, state = DELETED,
             *     published = true, pending = true, labels.<key> = "<value>". */
            filter?: string;
            /**
             * Format: int32
             * @description default 50, max 1000
             */
            pageSize?: number;
            pageToken?: string;
            /** @description REQUIRED: namespaces/{namespace} or namespaces/- */
            parent?: string;
            showDeleted?: boolean;
        };
        "accord.registry.v1.ListDefinitionsResponse": {
            definitions?: components["schemas"]["accord.registry.v1.Definition"][];
            nextPageToken?: string;
        };
        "accord.registry.v1.ListRevisionsRequest": {
            /** Format: int32 */
            pageSize?: number;
            pageToken?: string;
            /** @description REQUIRED: the definition */
            parent?: string;
        };
        "accord.registry.v1.ListRevisionsResponse": {
            nextPageToken?: string;
            /** @description newest first */
            revisions?: components["schemas"]["accord.registry.v1.Revision"][];
        };
        "accord.registry.v1.ListVerdictsRequest": {
            /**
             * Format: date-time
             * @description default: now
             */
            endTime?: string;
            /** @description only this lead's verdicts */
            leadId?: string;
            /**
             * Format: int32
             * @description default 100, at most 1000
             */
            pageSize?: number;
            pageToken?: string;
            /** @description REQUIRED: namespaces/{namespace} */
            parent?: string;
            /**
             * Format: date-time
             * @description default: 30 days before end_time
             */
            startTime?: string;
        };
        "accord.registry.v1.ListVerdictsResponse": {
            nextPageToken?: string;
            verdicts?: components["schemas"]["accord.registry.v1.Verdict"][];
        };
        /** @description How the member leads' scores combine into the account's engagement. */
        "accord.registry.v1.MemberAggregation": {
            /** @description members whose metric is negative do not count */
            dropNegative?: boolean;
            /** @enum {string} */
            method?: "METHOD_UNSPECIFIED" | "SUM" | "AVERAGE" | "MAX" | "TOP_N" | "TRIMMED_MEAN";
            /**
             * @description FIT, ENGAGEMENT (default) or TOTAL of each member
             * @enum {string}
             */
            metric?: "SCORE_METRIC_UNSPECIFIED" | "FIT" | "ENGAGEMENT" | "TOTAL" | "LEVEL";
            /**
             * Format: int32
             * @description TOP_N: >= 1
             */
            topN?: number;
            /** @description TRIMMED_MEAN: in [0, 0.5) */
            trimFraction?: number;
        };
        /** @description Holds when the lead matches the persona with a match >= min_match. */
        "accord.registry.v1.PersonaCondition": {
            /** @description in [0, 1]; 0 means the persona's own min_match */
            minMatch?: number;
            /** @description REQUIRED. Definition id ("it-director") or full resource name. */
            persona?: string;
        };
        "accord.registry.v1.PersonaCriterion": {
            /** @description REQUIRED */
            condition?: components["schemas"]["accord.registry.v1.Condition"];
            description?: string;
            /** @description REQUIRED, unique within the persona */
            id?: string;
            /** @description a failing required criterion makes the match 0 */
            required?: boolean;
            /** @description > 0; 0 means 1 */
            weight?: number;
        };
        "accord.registry.v1.Progress": Record<string, never>;
        "accord.registry.v1.ProposeRevisionRequest": {
            changeSummary?: string;
            /** @description of the definition whose draft is frozen */
            etag?: string;
            /** @description REQUIRED: the definition */
            name?: string;
            requestId?: string;
            validateOnly?: boolean;
        };
        "accord.registry.v1.PublishRevisionRequest": {
            /** @description of the definition */
            etag?: string;
            /** @description REQUIRED: the revision */
            name?: string;
            requestId?: string;
            validateOnly?: boolean;
        };
        /** @description Levels are ordered; the lead's level is the last whose thresholds all hold. */
        "accord.registry.v1.QualificationLevel": {
            minEngagement?: number;
            minFit?: number;
            minTotal?: number;
            /** @description REQUIRED, unique ("MQL") */
            name?: string;
        };
        "accord.registry.v1.QualificationModel": {
            /** @description Event properties that name the content an event is about ("asset", "url"), in order of
             *     preference: sales' verdicts are counted by the content of the events that scored
             *     ("webinar_attended:asset=roi-guide"), so marketing sees which content brings leads sales
             *     accepts. At most 8; empty: verdicts are not counted by content. */
            contentProperties?: string[];
            disqualifiers?: components["schemas"]["accord.registry.v1.Disqualifier"][];
            engagement?: components["schemas"]["accord.registry.v1.EngagementGroup"][];
            engagementGrades?: components["schemas"]["accord.registry.v1.GradeBand"][];
            /** @description The field dictionary: the lead attributes the CRM sends, by dotted path. Optional; when
             *     set, a rule or disqualifier of the model that reads a path missing from it is refused,
             *     and `accordctl validate --leads` checks sample leads against it. */
            fields?: components["schemas"]["accord.registry.v1.AttributeField"][];
            fit?: components["schemas"]["accord.registry.v1.FitGroup"][];
            fitGrades?: components["schemas"]["accord.registry.v1.GradeBand"][];
            levels?: components["schemas"]["accord.registry.v1.QualificationLevel"][];
            /** @description Personas considered when scoring with this model (ids or names); empty = every
             *     published persona of the namespace. */
            personas?: string[];
        };
        /** @description Of the leads reaching `level`, at least `min_accepted_fraction` are accepted, which is
         *     recorded as an event of `accepted_event_type` (or reaching `accepted_stage`). */
        "accord.registry.v1.QualityCommitment": {
            acceptedEventType?: string;
            acceptedStage?: string;
            /** @description REQUIRED */
            id?: string;
            /** @description REQUIRED */
            level?: string;
            /** @description in [0, 1] */
            minAcceptedFraction?: number;
            /**
             * @description REQUIRED
             * @enum {string}
             */
            period?: "PERIOD_UNSPECIFIED" | "DAY" | "WEEK" | "MONTH" | "QUARTER";
            /** @description REQUIRED */
            team?: string;
        };
        "accord.registry.v1.QualityReport": {
            byContentKey?: components["schemas"]["accord.registry.v1.AcceptanceRate"][];
            byGrade?: components["schemas"]["accord.registry.v1.AcceptanceRate"][];
            byLevel?: components["schemas"]["accord.registry.v1.AcceptanceRate"][];
            /** @description key "" : no persona matched */
            byPersona?: components["schemas"]["accord.registry.v1.AcceptanceRate"][];
            byRule?: components["schemas"]["accord.registry.v1.RuleQuality"][];
            /** Format: date-time */
            endTime?: string;
            /** @description of the leads not accepted */
            notAcceptedByReason?: components["schemas"]["accord.registry.v1.ReasonCount"][];
            overall?: components["schemas"]["accord.registry.v1.AcceptanceRate"];
            parent?: string;
            /** @description The quality commitments of the namespace's published SLAs, from these verdicts rather than
             *     from a stream of lead records (Scoring.ReportSla): over the report's range, the leads handed
             *     over at the commitment's level or a higher one, and how many sales accepted. */
            slaQuality?: components["schemas"]["accord.registry.v1.SlaQuality"][];
            /**
             * Format: date-time
             * @description as counted: whole days
             */
            startTime?: string;
        };
        "accord.registry.v1.ReasonCode": {
            /** @description REQUIRED, unique */
            code?: string;
            description?: string;
        };
        "accord.registry.v1.ReasonCount": {
            /** Format: int64 */
            leads?: string;
            reasonCode?: string;
        };
        /** @description A backward move the journey allows. Forward moves (to any later stage) are always
         *     allowed; backward moves only along these edges, with a reason from `reasons`. */
        "accord.registry.v1.RecycleEdge": {
            /** @description REQUIRED stage id */
            from?: string;
            /** @description codes from the reason taxonomy; empty = any code of it */
            reasons?: string[];
            /** @description REQUIRED stage id, earlier than `from` */
            to?: string;
        };
        /** @description When a lead enters `stage`, `team` must record an event of `event_type` within `within`. */
        "accord.registry.v1.ResponseCommitment": {
            /** @description REQUIRED */
            eventType?: string;
            /** @description REQUIRED */
            id?: string;
            /** @description REQUIRED, a stage id of the SLA's journey */
            stage?: string;
            /** @description REQUIRED */
            team?: string;
            /** @description AT_RISK after this fraction of `within`; default 0.75 */
            warnFraction?: number;
            /**
             * @description REQUIRED, > 0
             * @example 3.5s
             */
            within?: string;
        };
        "accord.registry.v1.Review": {
            comment?: string;
            principal?: string;
            team?: string;
            /** Format: date-time */
            time?: string;
            /** @enum {string} */
            verdict?: "VERDICT_UNSPECIFIED" | "APPROVE" | "REJECT";
        };
        "accord.registry.v1.ReviewRevisionRequest": {
            /** @description REQUIRED for a rejection */
            comment?: string;
            /** @description REQUIRED: the revision */
            name?: string;
            requestId?: string;
            /** @description The team the caller acts for; needed only when the caller approves for several teams. */
            team?: string;
        };
        /** @description An immutable snapshot of a definition's draft, and its review state. */
        "accord.registry.v1.Revision": {
            /** @description Output only: every principal who changed the draft's content since the previous revision
             *     was proposed. Like the proposer, none of them may review this revision. */
            authors?: string[];
            changeSummary?: string;
            /** @description "sha256:<hex>" of the snapshot's deterministic encoding */
            contentHash?: string;
            /** Format: date-time */
            createTime?: string;
            /** @description namespaces/{ns}/definitions/{def}/revisions/{n} */
            name?: string;
            proposer?: string;
            /** Format: date-time */
            publishTime?: string;
            requiredTeams?: string[];
            reviews?: components["schemas"]["accord.registry.v1.Review"][];
            /** Format: int64 */
            revisionNumber?: string;
            /**
             * Format: int64
             * @description for a rollback: the revision whose content was restored
             */
            rollbackOf?: string;
            /**
             * Format: int64
             * @description store sequence of the last change to this revision
             */
            sequence?: string;
            /** @description the frozen content (output fields cleared) */
            snapshot?: components["schemas"]["accord.registry.v1.Definition"];
            /** @enum {string} */
            state?: "STATE_UNSPECIFIED" | "PROPOSED" | "APPROVED" | "PUBLISHED" | "SUPERSEDED" | "REJECTED" | "WITHDRAWN";
        };
        "accord.registry.v1.RollbackDefinitionRequest": {
            etag?: string;
            /** @description REQUIRED: the definition */
            name?: string;
            requestId?: string;
            /**
             * Format: int64
             * @description REQUIRED: an earlier published revision
             */
            revisionNumber?: string;
        };
        "accord.registry.v1.RuleQuality": {
            /** @description the leads it fired for */
            fired?: components["schemas"]["accord.registry.v1.AcceptanceRate"];
            hasLift?: boolean;
            /** @description fired.rate / not_fired.rate; 0 with has_lift false when either side is empty or 0. */
            lift?: number;
            /** @description the other leads */
            notFired?: components["schemas"]["accord.registry.v1.AcceptanceRate"];
            /** @description "group/rule" */
            rule?: string;
        };
        "accord.registry.v1.ScoreCondition": {
            /** @description LEVEL: a level name of the model */
            level?: string;
            /**
             * @description REQUIRED.
             * @enum {string}
             */
            metric?: "SCORE_METRIC_UNSPECIFIED" | "FIT" | "ENGAGEMENT" | "TOTAL" | "LEVEL";
            /** @description qualification model id; empty = the journey's or SLA's model */
            model?: string;
            /**
             * @description EQ NE LT LE GT GE
             * @enum {string}
             */
            op?: "OPERATOR_UNSPECIFIED" | "EQ" | "NE" | "IN" | "NOT_IN" | "LT" | "LE" | "GT" | "GE" | "BETWEEN" | "CONTAINS" | "STARTS_WITH" | "ENDS_WITH" | "MATCHES" | "EXISTS" | "NOT_EXISTS";
            /** @description FIT, ENGAGEMENT, TOTAL */
            value?: number;
        };
        "accord.registry.v1.ServiceLevelAgreement": {
            /** @description REQUIRED, journey id or name */
            journey?: string;
            metrics?: components["schemas"]["accord.registry.v1.SharedMetric"][];
            /** @description REQUIRED, qualification model id or name */
            model?: string;
            quality?: components["schemas"]["accord.registry.v1.QualityCommitment"][];
            response?: components["schemas"]["accord.registry.v1.ResponseCommitment"][];
            volume?: components["schemas"]["accord.registry.v1.VolumeCommitment"][];
        };
        "accord.registry.v1.SharedMetric": {
            description?: string;
            /** @description REQUIRED, unique */
            name?: string;
            target?: number;
            /** @description accountable team */
            team?: string;
            unit?: string;
        };
        "accord.registry.v1.SlaQuality": {
            /** @description key: the level */
            accepted?: components["schemas"]["accord.registry.v1.AcceptanceRate"];
            /** @description the quality commitment's id */
            commitment?: string;
            level?: string;
            /** @description accepted.rate >= target (false with no lead) */
            met?: boolean;
            /** @description the SLA's name */
            sla?: string;
            /** @description min_accepted_fraction */
            target?: number;
            team?: string;
        };
        "accord.registry.v1.SnapshotBegin": {
            /**
             * Format: int64
             * @description oldest cursor still resumable
             */
            compactedSequence?: string;
            /** @enum {string} */
            reason?: "REASON_UNSPECIFIED" | "INITIAL" | "COMPACTED" | "HISTORY_CHANGED";
        };
        "accord.registry.v1.SnapshotEnd": {
            /** Format: int64 */
            definitionCount?: string;
        };
        "accord.registry.v1.UndeleteDefinitionRequest": {
            etag?: string;
            /** @description REQUIRED */
            name?: string;
            requestId?: string;
        };
        /** @description Sales' verdict on a lead marketing handed over, bound to what Accord scored at hand-off. */
        "accord.registry.v1.Verdict": {
            actor?: string;
            comment?: string;
            /** @description "event_type:property=value" of the events that scored */
            contentKeys?: string[];
            grade?: string;
            /**
             * Format: date-time
             * @description REQUIRED
             */
            handedOffAt?: string;
            /** @description REQUIRED: the lead's CRM id */
            leadId?: string;
            level?: string;
            /** @description Output only, derived by Accord: who recorded it and when, and what was scored at hand-off. */
            namespace?: string;
            /**
             * @description REQUIRED
             * @enum {string}
             */
            outcome?: "OUTCOME_UNSPECIFIED" | "ACCEPTED" | "REJECTED" | "RECYCLED" | "OPPORTUNITY" | "WON" | "LOST";
            /** @description the best persona's name; empty when none matched */
            persona?: string;
            /** @description from the published journey's reason taxonomy */
            reasonCode?: string;
            /** Format: date-time */
            recordTime?: string;
            /** @description "namespaces/n/definitions/d/revisions/3" */
            revisions?: string[];
            /** @description "group/rule" (a disqualifier: "disqualifiers/id"), the rules with points */
            rulesFired?: string[];
            /** @description REQUIRED: the caller's; a retry with the same id is recorded once */
            verdictId?: string;
        };
        /** @description `team` delivers at least `min_count` leads reaching `level` per `period`. */
        "accord.registry.v1.VolumeCommitment": {
            /** @description REQUIRED */
            id?: string;
            /** @description REQUIRED, a level of the SLA's model */
            level?: string;
            /** Format: int64 */
            minCount?: string;
            /**
             * @description REQUIRED
             * @enum {string}
             */
            period?: "PERIOD_UNSPECIFIED" | "DAY" | "WEEK" | "MONTH" | "QUARTER";
            /** @description REQUIRED */
            team?: string;
        };
        "accord.registry.v1.WatchDefinitionsRequest": {
            /** @description The history_id of the stream the cursor came from; a different one (the store was
             *     re-created) forces a resync. */
            historyId?: string;
            /** @description empty = all kinds */
            kinds?: ("DEFINITION_KIND_UNSPECIFIED" | "BUYER_PERSONA" | "QUALIFICATION_MODEL" | "BUYER_JOURNEY" | "SERVICE_LEVEL_AGREEMENT" | "ACCOUNT_MODEL")[];
            /** @description namespaces/{namespace} or namespaces/- (default: all) */
            parent?: string;
            /**
             * Format: int32
             * @description idle bookmark period, clamped to [1, 300], default 10
             */
            progressIntervalSeconds?: number;
            /**
             * Format: int64
             * @description 0: the full published state first, then live changes. N: every change after N.
             */
            startAfterSequence?: string;
            /** @enum {string} */
            tooOldPolicy?: "TOO_OLD_POLICY_UNSPECIFIED" | "RESYNC" | "FAIL";
        };
        "accord.registry.v1.WatchDefinitionsResponse": {
            changes?: components["schemas"]["accord.registry.v1.ChangeBatch"];
            historyId?: string;
            progress?: components["schemas"]["accord.registry.v1.Progress"];
            /**
             * Format: int64
             * @description everything <= sequence has been delivered once this is applied
             */
            sequence?: string;
            snapshotBegin?: components["schemas"]["accord.registry.v1.SnapshotBegin"];
            snapshotEnd?: components["schemas"]["accord.registry.v1.SnapshotEnd"];
        };
        "accord.registry.v1.WatchEvent": {
            definition?: string;
            /** @enum {string} */
            kind?: "DEFINITION_KIND_UNSPECIFIED" | "BUYER_PERSONA" | "QUALIFICATION_MODEL" | "BUYER_JOURNEY" | "SERVICE_LEVEL_AGREEMENT" | "ACCOUNT_MODEL";
            /** @description UPSERT only */
            revision?: components["schemas"]["accord.registry.v1.Revision"];
            /** Format: int64 */
            sequence?: string;
            /** @enum {string} */
            type?: "TYPE_UNSPECIFIED" | "UPSERT" | "DELETE";
        };
        /** @description An account and its member leads (Accord stores no leads: the caller sends them). */
        "accord.scoring.v1.Account": {
            /** @description the account's own: {"company": {"employees": 500}} */
            attributes?: {
                [key: string]: unknown;
            };
            id?: string;
            /** @description at most 1000, with distinct non-empty ids */
            members?: components["schemas"]["accord.scoring.v1.Lead"][];
        };
        "accord.scoring.v1.AccountScore": {
            accountId?: string;
            /** Format: date-time */
            asOf?: string;
            /** @description weighted share of the buying roles covered, in [0, 1] */
            coverage?: number;
            definitions?: components["schemas"]["accord.scoring.v1.DefinitionRef"][];
            /** @description the members' aggregated metric */
            engagement?: number;
            /** Format: int32 */
            excludedForConsent?: number;
            /** @description from the account model's fit rules on the account's attributes */
            fit?: number;
            /** @description the last account level whose thresholds hold; "" if none */
            level?: string;
            /** @description in request order */
            members?: components["schemas"]["accord.scoring.v1.MemberContribution"][];
            namespace?: string;
            /** @description the account fit rules and caps that counted */
            reasons?: components["schemas"]["accord.scoring.v1.Reason"][];
            roles?: components["schemas"]["accord.scoring.v1.RoleCoverage"][];
            /** @description fit + engagement */
            total?: number;
        };
        "accord.scoring.v1.BatchScoreAccountsRequest": {
            /** @description at most 100, and 10000 members in all */
            accounts?: components["schemas"]["accord.scoring.v1.Account"][];
            /** Format: date-time */
            asOf?: string;
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
        };
        "accord.scoring.v1.BatchScoreAccountsResponse": {
            scores?: components["schemas"]["accord.scoring.v1.AccountScore"][];
        };
        "accord.scoring.v1.BatchScoreLeadsRequest": {
            /** Format: date-time */
            asOf?: string;
            /** @description at most 1000 */
            leads?: components["schemas"]["accord.scoring.v1.Lead"][];
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
            /** @enum {string} */
            view?: "SCORE_VIEW_UNSPECIFIED" | "BASIC" | "FULL";
        };
        "accord.scoring.v1.BatchScoreLeadsResponse": {
            scores?: components["schemas"]["accord.scoring.v1.LeadScore"][];
        };
        "accord.scoring.v1.CheckTransitionRequest": {
            /** @description stage id (REQUIRED) */
            from?: string;
            /** @description a reason code, required for backward (recycle) moves */
            reason?: string;
            /** @description namespace, journey */
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
            /** @description stage id (REQUIRED) */
            to?: string;
        };
        "accord.scoring.v1.CheckTransitionResponse": {
            /** @description an illegal move is FAILED_PRECONDITION naming the allowed moves */
            allowed?: boolean;
            journey?: components["schemas"]["accord.scoring.v1.DefinitionRef"];
            recycle?: boolean;
        };
        /** @description A definition and the revision a result used. */
        "accord.scoring.v1.DefinitionRef": {
            name?: string;
            /** Format: int64 */
            revision?: string;
        };
        "accord.scoring.v1.EvaluateJourneyRequest": {
            /** Format: date-time */
            asOf?: string;
            lead?: components["schemas"]["accord.scoring.v1.Lead"];
            /** @description namespace, model, journey */
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
        };
        "accord.scoring.v1.EvaluateSlaRequest": {
            /** Format: date-time */
            asOf?: string;
            /** @description with stage_history and events */
            lead?: components["schemas"]["accord.scoring.v1.Lead"];
            /** @description namespace, sla */
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
        };
        "accord.scoring.v1.EvaluateSlaResponse": {
            responses?: components["schemas"]["accord.scoring.v1.ResponseStatus"][];
            sla?: components["schemas"]["accord.scoring.v1.DefinitionRef"];
        };
        "accord.scoring.v1.Event": {
            properties?: {
                [key: string]: unknown;
            };
            /**
             * Format: date-time
             * @description REQUIRED
             */
            time?: string;
            /** @description REQUIRED */
            type?: string;
        };
        /** @description A lead (or an account) at two moments, possibly scored with two revisions of its model. */
        "accord.scoring.v1.ExplainScoreChangeRequest": {
            accountAfter?: components["schemas"]["accord.scoring.v1.Account"];
            accountBefore?: components["schemas"]["accord.scoring.v1.Account"];
            /**
             * Format: date-time
             * @description REQUIRED
             */
            asOfAfter?: string;
            /**
             * Format: date-time
             * @description REQUIRED
             */
            asOfBefore?: string;
            leadAfter?: components["schemas"]["accord.scoring.v1.Lead"];
            /** @description set both leads, or both accounts */
            leadBefore?: components["schemas"]["accord.scoring.v1.Lead"];
            /** Format: int64 */
            revisionAfter?: string;
            /**
             * Format: int64
             * @description Revisions of the model (leads) or account model (accounts); 0: the published one.
             */
            revisionBefore?: string;
            /** @description namespace and model (leads) or account_model (accounts) */
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
        };
        "accord.scoring.v1.ExplainScoreChangeResponse": {
            accountAfter?: components["schemas"]["accord.scoring.v1.AccountScore"];
            /** @description accounts */
            accountBefore?: components["schemas"]["accord.scoring.v1.AccountScore"];
            after?: components["schemas"]["accord.scoring.v1.LeadScore"];
            /** @description leads */
            before?: components["schemas"]["accord.scoring.v1.LeadScore"];
            coverageChange?: number;
            engagementChange?: number;
            fitChange?: number;
            /** @description DEFINITION, DATA, TIME: they add up to the change */
            parts?: components["schemas"]["accord.scoring.v1.ScoreChangePart"][];
            totalChange?: number;
        };
        "accord.scoring.v1.GetShadowReportRequest": {
            /** @description default "default" */
            namespace?: string;
        };
        "accord.scoring.v1.JourneyEvaluation": {
            /** @description "sal", "engaged (recycle: no-budget|bad-timing)" */
            allowedMoves?: string[];
            definitions?: components["schemas"]["accord.scoring.v1.DefinitionRef"][];
            /**
             * Format: date-time
             * @description from the lead's stage history, if known
             */
            entered?: string;
            journey?: components["schemas"]["accord.scoring.v1.DefinitionRef"];
            ownerTeam?: string;
            /** @description the furthest stage whose entry condition holds */
            stage?: string;
            /** @description in the stage longer than its max_duration */
            stalled?: boolean;
        };
        "accord.scoring.v1.Lead": {
            /** @description nested: {"company": {"employees": 500}} */
            attributes?: {
                [key: string]: unknown;
            };
            events?: components["schemas"]["accord.scoring.v1.Event"][];
            id?: string;
            stageHistory?: components["schemas"]["accord.scoring.v1.StageEntry"][];
        };
        "accord.scoring.v1.LeadScore": {
            /** Format: date-time */
            asOf?: string;
            definitions?: components["schemas"]["accord.scoring.v1.DefinitionRef"][];
            disqualificationReason?: string;
            disqualified?: boolean;
            engagement?: number;
            engagementGrade?: string;
            fit?: number;
            fitGrade?: string;
            /** @description fit grade + engagement grade, e.g. "A1" */
            grade?: string;
            journeyStage?: string;
            leadId?: string;
            /** @description "" when no level holds; "DISQUALIFIED" when a disqualifier holds */
            level?: string;
            /** @description FULL view only: attribute paths the model's rules (its fit rules, disqualifiers and
             *     personas) read that this lead lacks, sorted. A misspelled attribute (`company.employes`)
             *     shows here and in unread_attributes. */
            missingAttributes?: string[];
            namespace?: string;
            /** @description distinct from a score of 0 reached by rules */
            noRuleMatched?: boolean;
            /** @description the best persona, if any reaches its min_match */
            persona?: components["schemas"]["accord.scoring.v1.PersonaMatch"];
            reasons?: components["schemas"]["accord.scoring.v1.Reason"][];
            total?: number;
            /** @description FULL view only: attribute paths this lead sent that no published rule of the namespace
             *     reads, sorted, at most 20. */
            unreadAttributes?: string[];
        };
        "accord.scoring.v1.LevelChange": {
            after?: string;
            before?: string;
            leadId?: string;
            /** @description the rules that moved the lead */
            reasons?: components["schemas"]["accord.scoring.v1.ReasonDelta"][];
            totalAfter?: number;
            totalBefore?: number;
        };
        /** @description How many leads went from level `before` to level `after` ("(none)" for no level). */
        "accord.scoring.v1.LevelTransition": {
            after?: string;
            before?: string;
            /** Format: int64 */
            count?: string;
        };
        "accord.scoring.v1.MatchPersonaRequest": {
            /** Format: date-time */
            asOf?: string;
            lead?: components["schemas"]["accord.scoring.v1.Lead"];
            /** @description namespace */
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
        };
        "accord.scoring.v1.MatchPersonaResponse": {
            /** @description the best one reaching its min_match, if any */
            best?: components["schemas"]["accord.scoring.v1.PersonaMatch"];
            /** @description every published persona, best first */
            matches?: components["schemas"]["accord.scoring.v1.PersonaMatch"][];
        };
        /** @description One member lead of a scored account. */
        "accord.scoring.v1.MemberContribution": {
            /** @description its share of the account's engagement; the shares add up to it */
            contribution?: number;
            /** @description counted by the aggregation (TOP_N: among the top; TRIMMED_MEAN: kept) */
            counted?: boolean;
            /** @description Why it is left out: "consent" (never scored), "disqualified", "negative" (drop_negative). */
            excluded?: string;
            grade?: string;
            leadId?: string;
            level?: string;
            /** @description its best persona, if any reaches its min_match */
            persona?: string;
            /** @description the buying roles it covers */
            roles?: string[];
            /** @description its score on the aggregated metric (0 when excluded) */
            value?: number;
        };
        "accord.scoring.v1.PersonaMatch": {
            /** @description ids of the criteria that held (FULL view) */
            criteriaMet?: string[];
            exclude?: boolean;
            match?: number;
            /** @description definition name */
            persona?: string;
            /** Format: int64 */
            revision?: string;
        };
        "accord.scoring.v1.PreviewDefinitionRequest": {
            /** @description Accounts to score on both sides (at most 100, 10000 members in all): their levels are
             *     counted in account_levels_before/after. For a proposed AccountModel, or any change that
             *     moves member scores. */
            accounts?: components["schemas"]["accord.scoring.v1.Account"][];
            /** Format: date-time */
            asOf?: string;
            /** @description at most 10000 */
            leads?: components["schemas"]["accord.scoring.v1.Lead"][];
            /** @description The proposed content (with its name), as GetRevision returns it in `snapshot`. It replaces
             *     the published definition of the same name for the "after" side. */
            proposed?: components["schemas"]["accord.registry.v1.Definition"];
            /** @description With at most 100 leads: every lead's FULL score on both sides (scores_before/after), for
             *     a side-by-side "test a lead". */
            returnScores?: boolean;
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
        };
        "accord.scoring.v1.PreviewDefinitionResponse": {
            accountLevelsAfter?: {
                [key: string]: string;
            };
            /** @description accounts per account level ("(none)") */
            accountLevelsBefore?: {
                [key: string]: string;
            };
            after?: components["schemas"]["accord.scoring.v1.DefinitionRef"][];
            before?: components["schemas"]["accord.scoring.v1.DefinitionRef"][];
            /** @description leads whose level changes (at most 1000 listed) */
            changed?: components["schemas"]["accord.scoring.v1.LevelChange"][];
            /** Format: int64 */
            changedCount?: string;
            gradesAfter?: {
                [key: string]: string;
            };
            gradesBefore?: {
                [key: string]: string;
            };
            /** Format: int64 */
            leadCount?: string;
            /** @description The level x level matrix, every non-empty cell, sorted by (before, after). */
            levelTransitions?: components["schemas"]["accord.scoring.v1.LevelTransition"][];
            levelsAfter?: {
                [key: string]: string;
            };
            levelsBefore?: {
                [key: string]: string;
            };
            scoresAfter?: components["schemas"]["accord.scoring.v1.LeadScore"][];
            /** @description return_scores only, in the order of `leads` */
            scoresBefore?: components["schemas"]["accord.scoring.v1.LeadScore"][];
            volumeChecks?: components["schemas"]["accord.scoring.v1.VolumeCheck"][];
        };
        "accord.scoring.v1.PreviewDefinitionResponse.AccountLevelsAfterEntry": {
            key?: string;
            /** Format: int64 */
            value?: string;
        };
        "accord.scoring.v1.PreviewDefinitionResponse.AccountLevelsBeforeEntry": {
            key?: string;
            /** Format: int64 */
            value?: string;
        };
        "accord.scoring.v1.PreviewDefinitionResponse.GradesAfterEntry": {
            key?: string;
            /** Format: int64 */
            value?: string;
        };
        "accord.scoring.v1.PreviewDefinitionResponse.GradesBeforeEntry": {
            key?: string;
            /** Format: int64 */
            value?: string;
        };
        "accord.scoring.v1.PreviewDefinitionResponse.LevelsAfterEntry": {
            key?: string;
            /** Format: int64 */
            value?: string;
        };
        "accord.scoring.v1.PreviewDefinitionResponse.LevelsBeforeEntry": {
            key?: string;
            /** Format: int64 */
            value?: string;
        };
        /** @description One rule (or cap, or disqualifier) that contributed to a result. */
        "accord.scoring.v1.Reason": {
            description?: string;
            /** @description cap or decay applied */
            detail?: string;
            /**
             * Format: int32
             * @description engagement rules
             */
            eventsCounted?: number;
            /** @description attribute value(s) or event summary */
            evidence?: string;
            group?: string;
            /** @enum {string} */
            kind?: "KIND_UNSPECIFIED" | "FIT" | "ENGAGEMENT" | "CAP" | "DISQUALIFIER";
            /** @description contribution after decay and rule caps */
            points?: number;
            rule?: string;
        };
        /** @description A rule whose contribution differs between the two sides (FULL reasons). */
        "accord.scoring.v1.ReasonDelta": {
            group?: string;
            /** @enum {string} */
            kind?: "KIND_UNSPECIFIED" | "FIT" | "ENGAGEMENT" | "CAP" | "DISQUALIFIER";
            pointsAfter?: number;
            /** @description 0 when the rule did not contribute */
            pointsBefore?: number;
            rule?: string;
        };
        "accord.scoring.v1.RecordVerdictsRequest": {
            /** @description namespace, model, journey (whose taxonomy holds the reason codes) */
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
            /** @description at most 1000 */
            verdicts?: components["schemas"]["accord.scoring.v1.VerdictInput"][];
        };
        "accord.scoring.v1.RecordVerdictsResponse": {
            /** @description For each verdict: false when it was a retry of one already recorded. */
            recorded?: boolean[];
            /** @description The verdicts as recorded, in request order, with what Accord scored at hand-off. */
            verdicts?: components["schemas"]["accord.registry.v1.Verdict"][];
        };
        "accord.scoring.v1.ResponseStatus": {
            commitment?: string;
            /** Format: date-time */
            deadline?: string;
            /** Format: date-time */
            entered?: string;
            eventType?: string;
            /** Format: date-time */
            metAt?: string;
            stage?: string;
            /** @enum {string} */
            status?: "STATUS_UNSPECIFIED" | "NOT_APPLICABLE" | "PENDING" | "AT_RISK" | "MET" | "BREACHED";
            team?: string;
        };
        "accord.scoring.v1.RoleCoverage": {
            covered?: boolean;
            /** @description lead ids */
            coveredBy?: string[];
            role?: string;
            weight?: number;
        };
        "accord.scoring.v1.ScoreAccountRequest": {
            account?: components["schemas"]["accord.scoring.v1.Account"];
            /**
             * Format: date-time
             * @description default: now
             */
            asOf?: string;
            /** @description namespace, account_model */
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
        };
        /** @description One cause's share of the change, measured from the state the previous cause left:
         *     DEFINITION (old lead, old time, the revision changes), then DATA (new revision, old time,
         *     the lead changes), then TIME (new revision, new lead, the time moves). */
        "accord.scoring.v1.ScoreChangePart": {
            /** @enum {string} */
            cause?: "CAUSE_UNSPECIFIED" | "DEFINITION" | "DATA" | "TIME";
            /** @description accounts */
            coverage?: number;
            engagement?: number;
            fit?: number;
            gradeAfter?: string;
            /** @description leads */
            gradeBefore?: string;
            levelAfter?: string;
            levelBefore?: string;
            /** @description the rules whose points moved in this step */
            reasons?: components["schemas"]["accord.scoring.v1.ReasonDelta"][];
            total?: number;
        };
        "accord.scoring.v1.ScoreLeadRequest": {
            /**
             * Format: date-time
             * @description default: now
             */
            asOf?: string;
            lead?: components["schemas"]["accord.scoring.v1.Lead"];
            selector?: components["schemas"]["accord.scoring.v1.Selector"];
            /** @enum {string} */
            view?: "SCORE_VIEW_UNSPECIFIED" | "BASIC" | "FULL";
        };
        /** @description Which published definitions to use. Empty fields pick the namespace's only model (and its
         *     journey and SLA); a revision pins a published or formerly published revision. */
        "accord.scoring.v1.Selector": {
            /** @description id or name; empty: the namespace's only account model */
            accountModel?: string;
            journey?: string;
            /** @description id or name */
            model?: string;
            /** Format: int64 */
            modelRevision?: string;
            /** @description default "default" */
            namespace?: string;
            sla?: string;
        };
        /** @description Leads whose published result was `published` and proposed result `proposed`. */
        "accord.scoring.v1.ShadowCell": {
            /** @description changed cells only, the first few seen */
            exampleLeadIds?: string[];
            /** Format: int64 */
            leads?: string;
            proposed?: string;
            /** @description a level or grade ("" none) */
            published?: string;
        };
        "accord.scoring.v1.ShadowReport": {
            namespace?: string;
            /**
             * Format: int64
             * @description sampled but not evaluated: the shadow's queue or CPU share was full
             */
            requestsDropped?: string;
            /**
             * Format: int64
             * @description queued for the shadow
             */
            requestsSampled?: string;
            /** @description newest first */
            revisions?: components["schemas"]["accord.scoring.v1.ShadowRevisionReport"][];
            /** @description of scoring requests */
            sampleRate?: number;
        };
        /** @description One proposed revision, shadowed from `since` on. */
        "accord.scoring.v1.ShadowRevisionReport": {
            /** @description still proposed and shadowed now */
            active?: boolean;
            /** @description the qualification model */
            definition?: string;
            /** Format: int64 */
            gradeChanges?: string;
            grades?: components["schemas"]["accord.scoring.v1.ShadowCell"][];
            /**
             * Format: int64
             * @description leads scored both ways
             */
            leads?: string;
            /** Format: int64 */
            levelChanges?: string;
            /** @description every non-empty (published, proposed) level cell */
            levels?: components["schemas"]["accord.scoring.v1.ShadowCell"][];
            /**
             * Format: int64
             * @description the published revision it was compared with
             */
            publishedRevision?: string;
            /**
             * Format: int64
             * @description the proposed revision
             */
            revision?: string;
            /** Format: date-time */
            since?: string;
        };
        "accord.scoring.v1.StageEntry": {
            /** @description a stage id of the journey */
            stage?: string;
            /**
             * Format: date-time
             * @description when the lead entered it
             */
            time?: string;
        };
        /** @description One verdict to record: sales' decision, and the lead as it was when it was handed over. */
        "accord.scoring.v1.VerdictInput": {
            /** @description at most 2,000 bytes */
            comment?: string;
            /**
             * Format: date-time
             * @description REQUIRED: the lead is re-scored as of then
             */
            handedOffAt?: string;
            /** @description REQUIRED: its id, attributes and events as they were at hand-off */
            lead?: components["schemas"]["accord.scoring.v1.Lead"];
            /**
             * Format: int64
             * @description The model revision the lead was scored with at hand-off (LeadScore.definitions); default:
             *     the published one.
             */
            modelRevision?: string;
            /**
             * @description REQUIRED
             * @enum {string}
             */
            outcome?: "OUTCOME_UNSPECIFIED" | "ACCEPTED" | "REJECTED" | "RECYCLED" | "OPPORTUNITY" | "WON" | "LOST";
            /** @description REQUIRED for REJECTED and RECYCLED: from the journey's taxonomy */
            reasonCode?: string;
            /** @description REQUIRED: a retry with the same id is recorded once */
            verdictId?: string;
        };
        /** @description A volume commitment of an SLA on the preview's model (the published SLAs, or the proposed
         *     one): how many leads of the sample reach its level or a higher one, before and after.
         *     Projecting to the commitment's period is the caller's: count x period / span of the sample. */
        "accord.scoring.v1.VolumeCheck": {
            commitment?: string;
            level?: string;
            /** Format: int64 */
            minCount?: string;
            /** @enum {string} */
            period?: "PERIOD_UNSPECIFIED" | "DAY" | "WEEK" | "MONTH" | "QUARTER";
            /** Format: int64 */
            reachedAfter?: string;
            /** Format: int64 */
            reachedBefore?: string;
            sla?: string;
            team?: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    Registry_GetCaller: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Caller"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_ListAuditEvents: {
        parameters: {
            query?: {
                /** @description only events of this definition (and its revisions) */
                resource?: string;
                pageSize?: number;
                pageToken?: string;
            };
            header?: never;
            path: {
                namespace: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.ListAuditEventsResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_ListDefinitions: {
        parameters: {
            query?: {
                /** @description default 50, max 1000 */
                pageSize?: number;
                pageToken?: string;
                /** @description Conjunction of terms joined by AND: kind = BUYER_PERSONA, state = DELETED,
                 *     published = true, pending = true, labels.<key> = "<value>". */
                filter?: string;
                showDeleted?: boolean;
            };
            header?: never;
            path: {
                namespace: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.ListDefinitionsResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_CreateDefinition: {
        parameters: {
            query?: {
                /** @description REQUIRED: [a-z][a-z0-9-]{0,62} */
                definitionId?: string;
                /** @description AIP-155: a retry with the same id returns the first result */
                requestId?: string;
                validateOnly?: boolean;
            };
            header?: never;
            path: {
                namespace: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.registry.v1.Definition"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Definition"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_GetDefinition: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
                definition: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Definition"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_DeleteDefinition: {
        parameters: {
            query?: {
                etag?: string;
                requestId?: string;
            };
            header?: never;
            path: {
                namespace: string;
                definition: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Definition"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_UpdateDefinition: {
        parameters: {
            query?: {
                /** @description Fields to replace; unset = every input field of `definition`. */
                updateMask?: string;
                requestId?: string;
                validateOnly?: boolean;
            };
            header?: never;
            path: {
                namespace: string;
                definition: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.registry.v1.Definition"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Definition"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_ListRevisions: {
        parameters: {
            query?: {
                pageSize?: number;
                pageToken?: string;
            };
            header?: never;
            path: {
                namespace: string;
                definition: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.ListRevisionsResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_GetRevision: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
                definition: string;
                revision: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Revision"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_ApproveRevision: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
                definition: string;
                revision: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.registry.v1.ReviewRevisionRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Revision"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_PublishRevision: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
                definition: string;
                revision: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.registry.v1.PublishRevisionRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Revision"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_RejectRevision: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
                definition: string;
                revision: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.registry.v1.ReviewRevisionRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Revision"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_DiffDefinition: {
        parameters: {
            query?: {
                /** @description Each side: "published" (the published revision), "latest" (the latest revision), "draft"
                 *     (the definition's current draft) or a revision number. Defaults: from = "published",
                 *     to = "draft". A side that does not exist yet (never published) is empty: everything in
                 *     the other side is ADDED. */
                from?: string;
                to?: string;
            };
            header?: never;
            path: {
                namespace: string;
                definition: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.DefinitionDiff"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_ProposeRevision: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
                definition: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.registry.v1.ProposeRevisionRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Revision"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_RollbackDefinition: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
                definition: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.registry.v1.RollbackDefinitionRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Revision"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_UndeleteDefinition: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
                definition: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.registry.v1.UndeleteDefinitionRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.Definition"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_WatchDefinitions: {
        parameters: {
            query?: {
                /** @description empty = all kinds */
                kinds?: ("DEFINITION_KIND_UNSPECIFIED" | "BUYER_PERSONA" | "QUALIFICATION_MODEL" | "BUYER_JOURNEY" | "SERVICE_LEVEL_AGREEMENT" | "ACCOUNT_MODEL")[];
                /** @description 0: the full published state first, then live changes. N: every change after N. */
                startAfterSequence?: string;
                /** @description The history_id of the stream the cursor came from; a different one (the store was
                 *     re-created) forces a resync. */
                historyId?: string;
                tooOldPolicy?: "TOO_OLD_POLICY_UNSPECIFIED" | "RESYNC" | "FAIL";
                /** @description idle bookmark period, clamped to [1, 300], default 10 */
                progressIntervalSeconds?: number;
            };
            header?: never;
            path: {
                namespace: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one JSON object per line: {"result": ...} */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["accord.registry.v1.WatchDefinitionsResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_GetQualityReport: {
        parameters: {
            query?: {
                /** @description The leads whose latest verdict was recorded in [start_time, end_time), in whole days (UTC). */
                startTime?: string;
                /** @description default: now */
                endTime?: string;
            };
            header?: never;
            path: {
                namespace: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.QualityReport"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_ListVerdicts: {
        parameters: {
            query?: {
                /** @description default: 30 days before end_time */
                startTime?: string;
                /** @description default: now */
                endTime?: string;
                /** @description only this lead's verdicts */
                leadId?: string;
                /** @description default 100, at most 1000 */
                pageSize?: number;
                pageToken?: string;
            };
            header?: never;
            path: {
                namespace: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.ListVerdictsResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Registry_EraseLeadVerdicts: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.registry.v1.EraseLeadVerdictsRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.registry.v1.EraseLeadVerdictsResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_GetShadowReport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                namespace: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.ShadowReport"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_BatchScoreAccounts: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.BatchScoreAccountsRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.BatchScoreAccountsResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_BatchScoreLeads: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.BatchScoreLeadsRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.BatchScoreLeadsResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_CheckTransition: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.CheckTransitionRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.CheckTransitionResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_EvaluateJourney: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.EvaluateJourneyRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.JourneyEvaluation"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_EvaluateSla: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.EvaluateSlaRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.EvaluateSlaResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_ExplainScoreChange: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.ExplainScoreChangeRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.ExplainScoreChangeResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_MatchPersona: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.MatchPersonaRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.MatchPersonaResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_PreviewDefinition: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.PreviewDefinitionRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.PreviewDefinitionResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_RecordVerdicts: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.RecordVerdictsRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.RecordVerdictsResponse"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_ScoreAccount: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.ScoreAccountRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.AccountScore"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    Scoring_ScoreLead: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["accord.scoring.v1.ScoreLeadRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["accord.scoring.v1.LeadScore"];
                };
            };
            /** @description google.rpc.Status */
            default: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
