import Testing
import SourceModel
@testable import CodeInsight

/// Exact imports and classifications per language.
@Suite struct DependencyScannerTests {
    /// "module package origin line" of each import.
    func rows(_ text: String, _ language: Language, _ context: DependencyContext = .init()) -> [String] {
        DependencyScanner.imports(in: text, language: language, context: context).map {
            "\($0.module) \($0.package) \($0.origin.rawValue) \($0.line)"
        }
    }

    @Test func python() {
        let text = """
        \"\"\"Docstring mentioning
        import fake
        \"\"\"
        import os, sys as system
        import numpy.linalg
        from . import sibling
        from ..pkg.mod import thing
        from collections.abc import (Mapping,
            Sequence)
        from mypkg.sub import x
        # import commented
        s = "import quoted"
        if True: pass; import json
        """
        #expect(rows(text, .python, DependencyContext(pythonModules: ["mypkg"])) == [
            "os os standard 4", "sys sys standard 4", "numpy.linalg numpy external 5", ". . internal 6",
            "..pkg.mod ..pkg.mod internal 7", "collections.abc collections standard 8", "mypkg.sub mypkg internal 10",
            "json json standard 13",
        ])
    }

    @Test func swift() {
        let text = """
        import Foundation
        @testable import Indexing
        import struct NIOCore.ByteBuffer
        // import Hidden
        @preconcurrency import Dispatch
        let x = y.import
        """
        #expect(rows(text, .swift, DependencyContext(swiftModules: ["Indexing"])) == [
            "Foundation Foundation standard 1", "Indexing Indexing internal 2", "NIOCore.ByteBuffer NIOCore external 3",
            "Dispatch Dispatch standard 5",
        ])
    }

    @Test func go() {
        let text = """
        package main

        import "fmt"
        import (
            "net/http"
            log "github.com/sirupsen/logrus/hooks"
            _ "example.com/me/app/internal/db"
            . "go.uber.org/zap"
            // "commented/out"
        )
        """
        #expect(rows(text, .go, DependencyContext(goModules: ["example.com/me/app"])) == [
            "fmt fmt standard 3", "net/http net standard 5", "github.com/sirupsen/logrus/hooks github.com/sirupsen/logrus external 6",
            "example.com/me/app/internal/db example.com/me/app internal 7", "go.uber.org/zap go.uber.org/zap external 8",
        ])
    }

    @Test func javaScriptAndTypeScript() {
        let text = """
        import React, { useState } from 'react';
        import {
          a,
          b,
        } from "@scope/pkg/sub";
        import './side-effect.css';
        import type { T } from "../types";
        const fs = require('node:fs');
        const p = require("path");
        const lazy = await import('lodash/fp');
        export * from './all';
        export { x } from "internal-self";
        // import nope from 'nope'
        const s = `import x from 'template'`;
        import.meta.url;
        import foo = require('legacy');
        """
        #expect(rows(text, .typescript, DependencyContext(javaScriptPackages: ["internal-self"])) == [
            "react react external 1", "@scope/pkg/sub @scope/pkg external 2", "./side-effect.css ./side-effect.css internal 6",
            "../types ../types internal 7", "node:fs fs standard 8", "path path standard 9", "lodash/fp lodash external 10",
            "./all ./all internal 11", "internal-self internal-self internal 12", "legacy legacy external 16",
        ])
    }

    @Test func rust() {
        let text = """
        use std::collections::HashMap;
        use serde::{Deserialize, Serialize};
        use crate::config::Settings;
        use super::parent;
        pub(crate) use self::inner::*;
        use mymod::Thing as Other;
        use ::tokio::runtime;
        extern crate libc;
        // use hidden::x;
        fn f<'a>(s: &'a str) {}
        """
        #expect(rows(text, .rust, DependencyContext(rustModules: ["mymod"])) == [
            "std::collections::HashMap std standard 1", "serde serde external 2", "crate::config::Settings crate internal 3",
            "super::parent super internal 4", "self::inner self internal 5", "mymod::Thing mymod internal 6",
            "tokio::runtime tokio external 7", "libc libc external 8",
        ])
    }

    @Test func java() {
        let text = """
        package com.acme.app;

        import java.util.List;
        import static org.junit.jupiter.api.Assertions.assertEquals;
        import javax.swing.*;
        import com.acme.util.Strings;
        import com.google.common.collect.ImmutableList;
        /* import hidden.X; */
        """
        #expect(rows(text, .java, DependencyContext(javaPackageFolders: ["com/acme/util"])) == [
            "java.util.List java.util standard 3", "org.junit.jupiter.api.Assertions.assertEquals org.junit.jupiter external 4",
            "javax.swing.* javax.swing standard 5", "com.acme.util.Strings com.acme.util internal 6",
            "com.google.common.collect.ImmutableList com.google.common external 7",
        ])
    }

    @Test func cAndCpp() {
        let text = """
        #include <stdio.h>
        #  include <sys/types.h>
        #include "local.h"
        #include <vector>
        #include <boost/asio.hpp>
        #include <zlib.h>
        #include <mylib/api.h>
        // #include <hidden.h>
        /*
        #include <also_hidden.h>
        */
        const char *s = "#include <nope.h>";
        """
        #expect(rows(text, .cpp, DependencyContext(headerPaths: ["mylib/api.h"])) == [
            "stdio.h stdio.h standard 1", "sys/types.h sys/types.h standard 2", "local.h local.h internal 3",
            "vector vector standard 4", "boost/asio.hpp boost external 5", "zlib.h zlib external 6",
            "mylib/api.h mylib/api.h internal 7",
        ])
    }

    @Test func otherLanguagesAndGarbage() {
        #expect(rows("import os\n", Language(rawValue: "markdown")).isEmpty)
        for language in [Language.python, .swift, .go, .rust, .javascript, .java, .c] {
            for text in ["import", "from", "use", "#include <", "import (\n\"a", "require(", "export {", "import static", "\u{0}\u{FFFD}import x"] {
                _ = DependencyScanner.imports(in: text, language: language)
            }
        }
    }
}
