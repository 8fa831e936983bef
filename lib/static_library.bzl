"""static_library: one archive holding the objects of a cc target and all of
its cc_library dependencies, and the link flags those declare (the system
libraries a consumer of the archive links too)."""

def _static_library_impl(ctx):
    archives = []
    flags = []
    for dep in ctx.attr.deps:
        for linker_input in dep[CcInfo].linking_context.linker_inputs.to_list():
            for flag in linker_input.user_link_flags:
                if flag not in flags:
                    flags.append(flag)
            for lib in linker_input.libraries:
                archive = lib.pic_static_library or lib.static_library
                if archive != None and archive not in archives:
                    archives.append(archive)

    # ar's MRI script merges the archives' members (ADDLIB) into one.
    script = ctx.actions.declare_file(ctx.label.name + ".mri")
    ctx.actions.write(
        script,
        "CREATE %s\n" % ctx.outputs.out.path +
        "".join(["ADDLIB %s\n" % a.path for a in archives]) +
        "SAVE\nEND\n",
    )
    ctx.actions.run_shell(
        inputs = archives + [script],
        outputs = [ctx.outputs.out],
        command = "rm -f %s && ar -M < %s" % (ctx.outputs.out.path, script.path),
        mnemonic = "StaticLibrary",
        progress_message = "Merging %d archives into %s" % (len(archives), ctx.outputs.out.short_path),
    )
    ctx.actions.write(ctx.outputs.link_flags, " ".join(flags) + "\n")
    outs = [ctx.outputs.out, ctx.outputs.link_flags]
    return [DefaultInfo(files = depset(outs), runfiles = ctx.runfiles(files = outs))]

static_library = rule(
    implementation = _static_library_impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "out": attr.output(mandatory = True),
        "link_flags": attr.output(mandatory = True),
    },
)
